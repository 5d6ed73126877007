"""latency.png: each operation's latency over time (ok / fail / info) and throughput per
second, with the nemesis windows shaded, as Jepsen's perf graphs show them."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"partition": "#f4a582", "kill": "#d6604d", "pause": "#92c5de", "clock": "#b2abd2"}
TYPE_COLORS = {"ok": "#1b7837", "fail": "#762a83", "info": "#e08214"}


def plot(path, ops, windows, splits_us, title):
    fig, (lat, thr) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    for outcome, color in TYPE_COLORS.items():
        xs = [op.invoke_us / 1e6 for op in ops if op.type == outcome]
        ys = [max(1e-1, (op.complete_us - op.invoke_us) / 1e3) for op in ops if op.type == outcome]
        lat.scatter(xs, ys, s=4, c=color, label=f"{outcome} ({len(xs)})", alpha=0.6)
    lat.set_yscale("log")
    lat.set_ylabel("latency (ms)")
    end_s = max([op.complete_us or op.invoke_us for op in ops] + [1]) / 1e6
    buckets = {}
    for op in ops:
        if op.type == "ok":
            buckets[int(op.complete_us / 1e6)] = buckets.get(int(op.complete_us / 1e6), 0) + 1
    seconds = list(range(int(end_s) + 1))
    thr.plot(seconds, [buckets.get(s, 0) for s in seconds], color="#2166ac")
    thr.set_ylabel("ok ops / s")
    thr.set_xlabel("time (s)")
    seen = set()
    for kind, start_us, stop_us in windows:
        for ax in (lat, thr):
            ax.axvspan(start_us / 1e6, stop_us / 1e6, color=COLORS.get(kind, "#cccccc"), alpha=0.35,
                       label=kind if (ax is lat and kind not in seen) else None)
        seen.add(kind)
    for t in splits_us:
        for ax in (lat, thr):
            ax.axvline(t / 1e6, color="#4d4d4d", linestyle=":", linewidth=1)
    lat.legend(loc="upper right", fontsize=8, ncol=4)
    lat.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
