"""ekv's Jepsen-style harness: real ekv-server nodes in network namespaces, under faults."""
