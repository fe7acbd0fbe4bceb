/** The agent's end-to-end scenarios on containerd, through ctr (see e2e/suite.ts). */
import { containerd } from "./e2e/engines";
import { agentEndToEnd } from "./e2e/suite";

await agentEndToEnd(containerd, 18200);
