import { conformance } from "./conformance";
import { startWorkerTarget } from "./targets";

conformance("Worker in Miniflare, libSQL over Hrana", () => startWorkerTarget());
