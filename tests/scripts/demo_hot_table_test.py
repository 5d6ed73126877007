#!/usr/bin/env python3
"""scripts/demo-hot-table.py: each route's load is counted on its group's leader, and the
hot range is every route overlapping it, the last route (end "" = +inf) included."""
import importlib.util
import sys
import unittest

spec = importlib.util.spec_from_file_location("demo_hot_table", sys.argv.pop(1))
table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(table)


def cluster(routes, leaders, heat):
    return {
        "catalog_version": 9,
        "nodes": [{"id": 1}, {"id": 2}, {"id": 3}],
        "groups": [{"group": g, "leader": n} for g, n in leaders.items()],
        "routes": [{"route_id": r, "start": s, "end": e, "group": g} for r, s, e, g in routes],
        "heat_map": {"routes": [{"route_id": r, "writes": w, "reads": rd} for r, w, rd in heat]},
    }


class RowTest(unittest.TestCase):
    def test_load_goes_to_the_leader_of_each_routes_group(self):
        state = cluster(routes=[(7, "", "key_000032", 3), (8, "key_000032", "m", 1), (2, "m", "", 2)],
                        leaders={1: 3, 2: 2, 3: 1},
                        heat=[(7, [5.0, 400.0], [0.0, 10.0]), (8, [300.0], []), (2, [], []),
                              (99, [1000.0], [0.0])])  # 99: a route the catalog no longer has
        nodes, per_node, leaders, hot = table.row(state, "key_000000", "key_000100")
        self.assertEqual(nodes, [1, 2, 3])
        self.assertEqual(per_node, {1: 410.0, 2: 0.0, 3: 300.0})
        self.assertEqual(leaders, {1: 1, 2: 1, 3: 1})
        self.assertEqual(hot, ["r7[-inf,key_000032)@g3/n1 410/s", "r8[key_000032,m)@g1/n3 300/s"])

    def test_the_last_route_overlaps_a_range_above_its_start(self):
        state = cluster(routes=[(1, "", "m", 1), (2, "m", "", 2)], leaders={1: 1, 2: 0},
                        heat=[(2, [50.0], [0.0])])
        _, per_node, leaders, hot = table.row(state, "x", "y")
        self.assertEqual(hot, ["r2[m,+inf)@g2/n0 50/s"])  # leader unknown: counted nowhere
        self.assertEqual(per_node, {1: 0.0, 2: 0.0, 3: 0.0})
        self.assertEqual(leaders, {1: 1, 2: 0, 3: 0})


if __name__ == "__main__":
    unittest.main()
