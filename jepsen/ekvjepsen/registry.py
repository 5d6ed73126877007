"""Every workload by name (jepsen/run --workload NAME). The list of names is also in
jepsen/run, which needs it before any client library is loaded."""
from .dynamo_workloads import DynamoBankWorkload, DynamoRegisterWorkload
from .redis_workloads import RedisAppendWorkload, RedisRegisterWorkload
from .workloads import WORKLOADS as GRPC_WORKLOADS

WORKLOADS = dict(GRPC_WORKLOADS)
for _workload in (RedisRegisterWorkload, RedisAppendWorkload, DynamoRegisterWorkload, DynamoBankWorkload):
    WORKLOADS[_workload.name] = _workload
