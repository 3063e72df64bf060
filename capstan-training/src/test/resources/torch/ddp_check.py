"""A tiny DDP job for Capstan's tests: rendezvous, an all-reduce, and a few training steps.

Reads the torch.distributed environment (RANK, WORLD_SIZE, MASTER_ADDR, ...) as torchrun or Capstan sets it.
Writes <out>/rank-<RANK>.json with the all-reduce result, when this rank joined the process group, and the
trained parameters. With CRASH_RANK=<r> and CRASH_MARKER=<file>, rank r exits with code 3 the first time
(when the marker file does not exist yet), and runs normally once the marker exists.
"""
import json
import os
import sys
import time

start = time.time()
rank = int(os.environ["RANK"])
world = int(os.environ["WORLD_SIZE"])
out = sys.argv[1]

crash_rank = os.environ.get("CRASH_RANK")
marker = os.environ.get("CRASH_MARKER")
if crash_rank is not None and int(crash_rank) == rank and marker and not os.path.exists(marker):
    open(marker, "w").close()
    print(f"rank {rank}: crashing on purpose", flush=True)
    sys.exit(3)

import torch
import torch.distributed as dist

dist.init_process_group(backend="gloo")
joined = time.time()
assert dist.get_rank() == rank and dist.get_world_size() == world

value = torch.tensor([float(rank + 1)])
dist.all_reduce(value, op=dist.ReduceOp.SUM)
expected = world * (world + 1) / 2
assert value.item() == expected, f"all-reduce gave {value.item()}, expected {expected}"

torch.manual_seed(0)
model = torch.nn.Linear(4, 1)
ddp = torch.nn.parallel.DistributedDataParallel(model)
optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1)
generator = torch.Generator().manual_seed(1000 + rank)
for step in range(5):
    x = torch.randn(8, 4, generator=generator)
    y = x.sum(dim=1, keepdim=True)
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(ddp(x), y)
    loss.backward()
    optimizer.step()

params = torch.cat([p.detach().flatten() for p in model.parameters()])
gathered = [torch.zeros_like(params) for _ in range(world)]
dist.all_gather(gathered, params)
identical = all(torch.equal(gathered[0], g) for g in gathered)

os.makedirs(out, exist_ok=True)
with open(os.path.join(out, f"rank-{rank}.json"), "w") as f:
    json.dump({"rank": rank, "world": world, "allreduce": value.item(), "identical": identical,
               "params": [round(v, 6) for v in params.tolist()], "start": start, "joined": joined,
               "local_rank": int(os.environ.get("LOCAL_RANK", "-1"))}, f)
model_dir = os.environ.get("CAPSTAN_MODEL_DIR")
if rank == 0 and model_dir:
    os.makedirs(model_dir, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(model_dir, "model.pt"))
dist.destroy_process_group()
print(f"rank {rank} of {world}: all-reduce {value.item()}, identical parameters: {identical}", flush=True)
