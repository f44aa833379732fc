/** capture/: starts the helper (bpf/helper.py, or the installed one) locally or over ssh. Imports only util and Node. */
export * from './captureApi';
export * from './helperProtocol';
export { HelperClient, Envelope, HelperClientOptions, HelperProcess, HelperExit, cancelledError } from './helperClient';
export { resolveBpfDir, loadHelperPayload } from './helperFiles';
export {
  BOOTSTRAP,
  LOADER,
  READY_LINE,
  SERVE_READY_LINE,
  LaunchPlan,
  initialPlan,
  withPassword,
  remoteCommand,
  sudoersRule,
  installHint,
  INSTALL_DIR,
  INSTALLED_HELPER,
  INSTALLED_ARGV,
  SUDOERS_FILE,
  DEFAULT_GROUP,
} from './launchPlan';
export { mayRunAsUser, perfEventParanoid } from './ownProcess';
export { rootOwnedProblem, checkRootOwned } from './trustedPath';
export { runHelper, rememberPassword, makePrivateTempDir, HelperRun, RunHelperOptions, RunElsewhere, PasswordPrompt } from './runHelper';
export * from './target';
