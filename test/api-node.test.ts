import { conformance } from "./conformance";
import { startNodeTarget } from "./targets";

conformance("Node, embedded libSQL, HTTPS", () => startNodeTarget());
