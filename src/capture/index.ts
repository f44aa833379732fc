/** capture/: starts the privileged helper (bpf/helper.py) locally or over ssh. Imports only util and Node. */
export * from './captureApi';
export * from './helperProtocol';
export { HelperClient, Envelope, HelperClientOptions } from './helperClient';
export { resolveBpfDir, loadHelperPayload } from './helperFiles';
export { BOOTSTRAP, LOADER, READY_LINE, LaunchPlan, initialPlan, withPassword, remoteCommand, sudoersLine, sudoersHint } from './launchPlan';
export { runHelper, rememberPassword, makePrivateTempDir, HelperRun, RunHelperOptions, PasswordPrompt } from './runHelper';
export * from './target';
