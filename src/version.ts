/** hardkms's version, sent to Tatum as x-ttm-kms-client-version and printed by --version. */
export const VERSION = '0.1.0';
