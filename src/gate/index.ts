// Public surface of the gate for cli/ and vault/.
export { newChallenge, touchMessage } from './challenge.js';
export { DEFAULT_TOUCH_TIMEOUT_MS, DRIVER_NAMES, isDriverName } from './drivers/driver.js';
export type { CredentialRef, DriverName, RespondOptions, YubiKeyDriver } from './drivers/driver.js';
export { getDriver } from './drivers/index.js';
export { createEmulatedKey, EmulatorDriver, reprogramEmulatedKey } from './drivers/emulator.js';
export { YkchalrespDriver } from './drivers/ykchalresp.js';
export { YkmanDriver } from './drivers/ykman.js';
export { decryptShare, encryptShare } from './share-cipher.js';
export { combine, split } from './shamir.js';
export { decodeRecoverySheet, decodeRecoveryWords, encodeRecoveryWords, type RecoverySheet } from './recovery.js';
export { findCredential, gateStatus, parseYubiKeySealRecord } from './seal-record.js';
export type { GateCredential, YubiKeySealRecord } from './seal-record.js';
export { wipeRecovery, YubiKeyGateProvider } from './yubikey-provider.js';
export type {
  GateCredentialSpec,
  GateSealResult,
  PassphraseRequest,
  RecoveryShare,
  YubiKeyGateOptions,
} from './yubikey-provider.js';
export { generateOtp, modhexDecode, modhexEncode, parseOtp, softwareOtpDecrypt, verifyOtp } from './otp.js';
