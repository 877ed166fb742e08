"""The merge workload of kakehashi-bench, on pycrdt (Python bindings of Yrs, the Rust Yjs).

Two replicas each write UPDATES values into FIELDS keys of one map, each write its own
transaction (as each kakehashi write is its own change); then each replica applies the
other's updates and both must hold the same map. Prints one JSON object: updates, seconds.

    python pycrdt_merge.py UPDATES [FIELDS]
"""
import json
import sys
import time

from pycrdt import Doc, Map


def run(updates: int, fields: int) -> float:
    start = time.perf_counter()
    replicas = []
    for name in ("a", "b"):
        doc = Doc()
        record = doc.get("case", type=Map)
        for index in range(updates):
            with doc.transaction():
                record[f"field{index % fields}"] = f"{name}{index}"
        replicas.append(doc)
    a, b = replicas
    update_a, update_b = a.get_update(), b.get_update()
    a.apply_update(update_b)
    b.apply_update(update_a)
    elapsed = time.perf_counter() - start
    if a.get("case", type=Map).to_py() != b.get("case", type=Map).to_py():
        raise SystemExit("pycrdt replicas did not converge")
    return elapsed


if __name__ == "__main__":
    updates = int(sys.argv[1])
    fields = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    best = min(run(updates, fields) for _ in range(3))
    print(json.dumps({"updates": updates * 2, "seconds": best}))
