/** The agent's end-to-end scenarios on Docker (see agent-e2e/suite.ts). */
import { docker } from "./agent-e2e/engines";
import { agentEndToEnd } from "./agent-e2e/suite";

await agentEndToEnd(docker, 18100);
