/** The agent's end-to-end scenarios on containerd, through ctr (see agent-e2e/suite.ts). */
import { containerd } from "./agent-e2e/engines";
import { agentEndToEnd } from "./agent-e2e/suite";

await agentEndToEnd(containerd, 18200);
