"""The recovery bench's table: ``render(results, details)`` → text (results.json's figures)."""

from __future__ import annotations

from typing import Any


def _f(value: Any, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def _ratio(a: Any, b: Any) -> str:
    return "-" if a is None or not b else f"{a / b:.2f}"


def render(results: dict[str, Any], details: dict[str, Any]) -> str:
    """P2 rows with ratios, then P1, P3, P4, P5 and requests per VM by kind."""
    lines = ["", "P2  host failure -> every VM back in its original state (seconds, median; "
             "spread in details.json)",
             f"{'N':>5} {'C':>3} {'L':>4} {'db':>7} {'ours':>7} {'ideal':>6} {'mas.def':>8} "
             f"{'mas.tuned':>9} {'RH loop':>8} {'ours/ideal':>10} {'ours/mas.t':>10}"]
    for row in results["p2"]:
        lines.append(
            f"{row['n']:>5} {row['concurrency']:>3} {row['latency_s']:>4.1f} {row['db']:>7} "
            f"{_f(row['ours_s']):>7} {_f(row['ideal_s']):>6} "
            f"{_f(row['masakari_default_s']):>8} {_f(row['masakari_tuned_s']):>9} "
            f"{_f(row['sequential_s']):>8} {_ratio(row['ours_s'], row['ideal_s']):>10} "
            f"{_ratio(row['ours_s'], row['masakari_tuned_s']):>10}")
    for info in details["rows"]:
        lines.append(f"      N={info['rows'][0]['n']} C={info['rows'][0]['concurrency']}: "
                     f"evacuable {info['evacuable']}, runs {info['seconds']}")
    p1, p1e, p3 = results["p1_ms"], results["p1_first_evacuate_ms"], results["p3_ms"]
    lines += ["",
              f"P1  host-down published -> execution created: p50 {_f(p1['p50'])} ms, "
              f"p99 {_f(p1['p99'])} ms; -> first evacuate accepted: p50 "
              f"{_f(p1e['p50'])} ms, p99 {_f(p1e['p99'])} ms "
              f"({details['p1_samples']} incidents)",
              f"P3  rebuild.end -> VM confirmed: p50 {_f(p3['p50'])} ms, "
              f"p99 {_f(p3['p99'])} ms; requests per recovered VM: ours "
              f"{_f(results['p3_requests_per_vm']['ours'], '{:.2f}')}, Masakari "
              f"{_f(results['p3_requests_per_vm']['masakari'], '{:.2f}')}"]
    for peer, per_kind in details["requests_per_vm"].items():
        for kinds in per_kind:
            lines.append(f"      {peer}: " + ", ".join(f"{v} {k}" for k, v in kinds.items()))
    lines += _cpu_lines(details)
    p4, p5 = results["p4"], results["p5"]
    lines.append("P4  " + ("not run" if p4 is None else
                           f"{p4['msgs_per_s']:.0f} msg/s, peak RSS {p4['rss_mb']:.0f} MB"))
    lines.append("P5  " + ("not run" if p5 is None else
                           f"{p5['vms']} VMs: {p5['total_s']:.1f} s, listener RSS "
                           f"{p5['listener_rss_mb']:.0f} MB, Mistral RSS "
                           f"{p5['mistral_rss_mb']:.0f} MB, largest field "
                           f"{p5['largest_field_kb']:.1f} KB"))
    lines.append(f"machine {results['machine']}, git {results['git']}, "
                 f"wall {details['wall_s']:.0f} s")
    return "\n".join(lines)


def _cpu_lines(details: dict[str, Any]) -> list[str]:
    """CPU seconds per evacuable VM of each run of ours (Mistral; listeners)."""
    lines = []
    for info in details["rows"]:
        vms = max(int(info["evacuable"]), 1)
        for peer, runs in info["runs"].items():
            cpus = [r["cpu_s"] for r in runs if isinstance(r.get("cpu_s"), dict)]
            if cpus:
                lines.append(f"      CPU per VM, {peer} N={info['rows'][0]['n']} C="
                             f"{info['rows'][0]['concurrency']}: Mistral " + ", ".join(
                                 f"{c['mistral'] / vms:.3f}" for c in cpus) + " s; listeners "
                             + ", ".join(f"{c['listeners'] / vms:.3f}" for c in cpus) + " s")
    return lines
