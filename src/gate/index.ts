// Public surface of the gate for cli/ and vault/.
export { DEFAULT_TOUCH_TIMEOUT_MS, DRIVER_NAMES, isDriverName } from './drivers/driver.js';
export type { DriverName } from './drivers/driver.js';
export { getDriver } from './drivers/index.js';
export { decodeRecoverySheet, type RecoverySheet } from './recovery.js';
export { findCredential, gateStatus, parseYubiKeySealRecord } from './seal-record.js';
export type { YubiKeySealRecord } from './seal-record.js';
export { wipeRecovery, YubiKeyGateProvider } from './yubikey-provider.js';
export type {
  GateCredentialSpec,
  GateSealResult,
  PassphraseRequest,
  RecoveryShare,
  YubiKeyGateOptions,
} from './yubikey-provider.js';
export { modhexDecode, softwareOtpDecrypt, verifyOtp } from './otp.js';
