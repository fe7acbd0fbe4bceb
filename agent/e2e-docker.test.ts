/** The agent's end-to-end scenarios on Docker (see e2e/suite.ts). */
import { docker } from "./e2e/engines";
import { agentEndToEnd } from "./e2e/suite";

await agentEndToEnd(docker, 18100);
