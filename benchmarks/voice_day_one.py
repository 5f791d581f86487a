"""Voice on day one: macro-F1 of `klantreis voice score` on an empty store, against baselines.

Runs the command exactly as a new shop would (`klantreis voice score --text-file F --json`, in
an empty folder, no store, no network) on the public evaluation sentences in
`../shared/eval/voice-sentences/{nl,en,da}.tsv`, and compares with that folder's word-lexicon
baseline (`baseline.py`, imported, not copied). The goal per language: baseline + 0.10.
Then the time to score 10,000 texts (development sentences, not the evaluation ones), median
of three runs, in process and through the command.

    python benchmarks/voice_day_one.py

Report only: nothing here is used to choose words, weights or thresholds.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = next(
    (p for p in (REPO.parent / "shared", Path("/work/shared")) if (p / "eval").is_dir()), None
)
LANGUAGES = ("nl", "en", "da")
GOAL = 0.10
COMMAND = (sys.executable, "-m", "klantreis.present.cli.app", "voice", "score")


def _baseline_module():  # type: ignore[no-untyped-def]
    path = SHARED / "eval" / "voice-sentences" / "baseline.py"  # type: ignore[operator]
    spec = importlib.util.spec_from_file_location("voice_baseline", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def read_set(lang: str) -> list[tuple[str, str]]:
    path = SHARED / "eval" / "voice-sentences" / f"{lang}.tsv"  # type: ignore[operator]
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition("\t")
        if text.strip():
            rows.append((label, text.strip()))
    return rows


def cli_labels(texts: list[str], workdir: Path) -> tuple[list[str], float]:
    """Labels from `klantreis voice score --json` run in an empty folder, and its wall time."""
    text_file = workdir / "texts.txt"
    text_file.write_text("\n".join(t.replace("\n", " ") for t in texts) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLANTREIS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    started = time.perf_counter()
    out = subprocess.run(
        [*COMMAND, "--text-file", str(text_file), "--json"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    rows = json.loads(out.stdout)
    if len(rows) != len(texts):
        raise SystemExit(f"expected {len(texts)} scored lines, got {len(rows)}")
    return [row["label"] for row in rows], elapsed


def dev_texts(n: int) -> list[str]:
    """n texts from the development sets (Danish comments, UCI sentences), cycled."""
    data = SHARED / "data"  # type: ignore[operator]
    texts = []
    danish = data / "github-steffan267-danish-political-comments-sentiment" / "all_sentences.csv"
    for line in danish.read_text(encoding="utf-8").splitlines():
        texts.append(line.partition(",")[2].strip('"'))
    uci = data / "github-uci-sentiment-labelled-sentences-en" / "yelp_labelled.txt"
    texts += [line.rpartition("\t")[0] for line in uci.read_text(encoding="utf-8").splitlines()]
    texts = [t for t in texts if t.strip()]
    return [texts[i % len(texts)] for i in range(n)]


def main() -> int:
    if SHARED is None:
        print("../shared/eval not found; nothing to measure")
        return 0
    baseline = _baseline_module()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; empty store, no network")
    print()
    print(f"{'lang':4} {'n':>5} {'baseline':>9} {'goal':>6} {'klantreis':>10} {'delta':>6}  met")
    all_met = True
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for lang in LANGUAGES:
            rows = read_set(lang)
            gold = [label for label, _ in rows]
            texts = [text for _, text in rows]
            predicted, _ = cli_labels(texts, workdir)
            ours = baseline.macro_f1(gold, predicted)
            words = baseline.lex[lang]
            base_pred = []
            for text in texts:
                total = sum(words.get(w, 0) for w in baseline.re.findall(r"\w+", text.lower()))
                label = "positive" if total > 0 else "negative" if total < 0 else "neutral"
                base_pred.append(label)
            base = baseline.macro_f1(gold, base_pred)
            met = ours >= base + GOAL
            all_met &= met
            print(
                f"{lang:4} {len(rows):5d} {base:9.3f} {base + GOAL:6.3f} {ours:10.3f} "
                f"{ours - base:+6.3f}  {'yes' if met else 'NO'}"
            )
        print()
        texts = dev_texts(10_000)
        sys.path.insert(0, str(REPO / "src"))
        from klantreis.measure.voice.scoring import VoiceScorer

        scorer = VoiceScorer()
        scorer.score_many(texts[:50])  # load lexicons and models once
        in_process, command = [], []
        for _ in range(3):
            started = time.perf_counter()
            scorer.score_many(texts)
            in_process.append(time.perf_counter() - started)
            command.append(cli_labels(texts, workdir)[1])
        print(
            f"10,000 texts: {statistics.median(in_process):.2f} s in process, "
            f"{statistics.median(command):.2f} s through `voice score` (median of 3)"
        )
    return 0 if all_met else 1


if __name__ == "__main__":
    raise SystemExit(main())
