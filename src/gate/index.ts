// Public surface of the gate for cli/ and vault/.
export { CHALLENGE_BYTES, newChallenge, touchMessage } from './challenge.js';
export { DEFAULT_TOUCH_TIMEOUT_MS, DRIVER_NAMES, isDriverName } from './driver.js';
export type { CredentialRef, DriverName, RespondOptions, YubiKeyDriver } from './driver.js';
export { getDriver } from './drivers.js';
export { createEmulatedKey, EMULATOR_DIR_ENV, EmulatorDriver, emulatedKeyPath, reprogramEmulatedKey } from './emulator.js';
export { YkchalrespDriver } from './ykchalresp.js';
export { YkmanDriver } from './ykman.js';
export { openShare, sealShare } from './seal.js';
export { combine, split } from './shamir.js';
export { decodeRecoverySheet, decodeRecoveryWords, encodeRecoveryWords, type RecoverySheet } from './recovery.js';
export { findCredential, gateStatus, parseYubiKeySealRecord } from './record.js';
export type { GateCredential, GateStatus, YubiKeySealRecord } from './record.js';
export { wipeRecovery, YubiKeyGateProvider } from './yubikey-provider.js';
export type { GateCredentialSpec, GateSealResult, PassphraseRequest, RecoveryShare, YubiKeyGateOptions } from './yubikey-provider.js';
export { generateOtp, modhexDecode, modhexEncode, parseOtp, softwareOtpDecrypt, verifyOtp } from './otp.js';
export type { OtpCounters, OtpDecrypt, OtpFields, VerifiedOtp, VerifyOtpOptions } from './otp.js';
