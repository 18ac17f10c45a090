"""``bench/profile_peers.py``'s trace reading: self time per TensorFlow op type, and the top-shares table.

The profile itself (a ResNet-50 or MobileNetV2 step, a torch environment) is not run here; a hand-made trace is."""

import importlib.util
import pathlib

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "bench" / "profile_peers.py"
_spec = importlib.util.spec_from_file_location("profile_peers", SCRIPT)
profile_peers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(profile_peers)

PS = 10**12


def write_trace(path, lines, plane="/host:CPU"):
    """An ``XSpace`` with one plane; ``lines``: per thread, ``[(name, start s, duration s), ...]``."""
    xplane_pb2 = pytest.importorskip("tensorflow.tsl.profiler.protobuf.xplane_pb2")
    space = xplane_pb2.XSpace()
    host = space.planes.add(name=plane)
    ids = {}
    for events in lines:
        line = host.lines.add()
        for name, start, duration in events:
            if name not in ids:
                ids[name] = len(ids) + 1
                host.event_metadata[ids[name]].name = name
            line.events.add(metadata_id=ids[name], offset_ps=int(start * PS), duration_ps=int(duration * PS))
    path.write_bytes(space.SerializeToString())
    return str(path)


def test_self_time_leaves_out_the_ops_an_op_contains(tmp_path):
    trace = write_trace(tmp_path / "t.xplane.pb", [
        [("__inference_step:StatefulPartitionedCall", 0.0, 10.0),  # a function: 10 s, of which 8 s are its ops
         ("model/conv/Conv2D:_MklNativeFusedConv2D", 1.0, 6.0),
         ("model/cast/Cast:Cast", 7.0, 2.0),
         ("ExecutorState::Process", 10.0, 1.0)],  # not an op: not counted
        [("model/conv_1/Conv2D:_MklNativeFusedConv2D", 0.0, 3.0)],  # another thread adds up
    ])
    totals = profile_peers.self_times_by_op_type(trace)
    assert totals == pytest.approx({"StatefulPartitionedCall": 2.0, "_MklNativeFusedConv2D": 9.0, "Cast": 2.0})


def test_only_host_planes_are_read(tmp_path):
    trace = write_trace(tmp_path / "t.xplane.pb", [[("a/b:Conv2D", 0.0, 1.0)]], plane="/device:GPU:0")
    assert profile_peers.self_times_by_op_type(trace) == {}


def test_top_shares_rank_and_gather_the_rest():
    rows = profile_peers.top_shares({"Conv": 6.0, "Cast": 3.0, "Relu": 0.5, "Add": 0.5}, top=2)
    assert rows == [["Conv", 0.6, 6.0], ["Cast", 0.3, 3.0], ["(other)", 0.1, 1.0]]
    assert profile_peers.top_shares({"Conv": 1.0}, top=5) == [["Conv", 1.0, 1.0]]
