// Stands in for modules dockerode loads but the agent never uses (ssh2 for ssh://
// Docker hosts, gRPC for BuildKit sessions) in the agent's bundle: see bin/kubeflare-agent.mjs.
module.exports = {};
