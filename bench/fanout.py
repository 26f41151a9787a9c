"""Run the editions workflow (.github/workflows/fanout.yml) on this machine, job by job, as GitHub would.

The workflow cannot run on GitHub from here (no network), so this replays it: each job (each matrix
combination) gets a fresh workspace holding only what ``actions/checkout`` gives it (the repository's
tracked files); ``actions/cache`` and ``actions/cache/restore`` save and restore the paths the file names
under their keys (exact key, then the ``restore-keys`` prefixes, newest first); ``upload-artifact`` and
``download-artifact`` move files through an artifact store with their rules (the paths' least common
ancestor as the root, hidden files only when asked, ``!`` exclusions, ``merge-multiple``); ``run`` steps
run in bash with ``GITHUB_OUTPUT``; ``if:`` conditions and ``${{ }}`` expressions (matrix, steps, needs,
github.sha, hashFiles) are evaluated. Only the machine set-up steps are skipped (apt-get in a fresh
container, ``scripts/setup``): the workspace borrows this checkout's virtual environment.

What it shows: the jobs only share what the workflow file says they share, and with that the last job
reuses every edition (nothing laid out twice) and its outputs equal a one-machine build's, byte for byte.

    .venv/bin/python bench/fanout.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import hashlib
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "fanout.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
MACHINE_SETUP = ("apt-get ", "bash scripts/setup")


@dataclass
class Job:
    """One job of one matrix combination, with what its steps said."""

    name: str
    matrix: dict[str, str]
    outputs: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def title(self) -> str:
        return self.name + (f" ({', '.join(self.matrix.values())})" if self.matrix else "")


class Replay:
    """The workflow's jobs in order of ``needs``, sharing files only through caches and artifacts."""

    def __init__(self, workflow: Path, scratch: Path, caches: Path, sha: str,
                 changed: dict[str, str] | None = None) -> None:
        self.spec = yaml.safe_load(workflow.read_text(encoding="utf-8"))
        self.scratch, self.caches, self.sha = scratch, caches, sha
        self.changed = changed or {}  # files of the commit this run checks out that differ from this checkout
        self.artifacts = scratch / "artifacts"
        self.done: dict[str, list[Job]] = {}

    def run(self) -> list[Job]:
        finished: list[Job] = []
        for name in self._order():
            definition = self.spec["jobs"][name]
            runs = [self._run_job(name, definition, combination) for combination in _matrix(definition)]
            self.done[name] = runs
            finished.extend(runs)
        return finished

    def _order(self) -> list[str]:
        order: list[str] = []
        jobs = self.spec["jobs"]
        while len(order) < len(jobs):
            ready = [name for name, job in jobs.items() if name not in order
                     and all(need in order for need in _list(job.get("needs")))]
            if not ready:
                raise SystemExit(f"{WORKFLOW}: the jobs' needs form a cycle")
            order.extend(ready)
        return order

    def _run_job(self, name: str, definition: dict, matrix: dict[str, str]) -> Job:
        job = Job(name, matrix)
        workspace = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.scratch))
        context = {"matrix": matrix, "steps": {}, "job": job, "workspace": workspace}
        saves: list[tuple[list[str], str]] = []
        started = time.perf_counter()
        print(f"job {job.title}", flush=True)
        for step in definition["steps"]:
            condition = step.get("if")
            if condition and not self._true(condition, context):
                job.log.append(f"  skipped (if: {condition}): {step.get('name') or step.get('uses')}")
                continue
            self._step(step, workspace, context, saves)
        for paths, key in saves:  # actions/cache's post step: save when the key missed
            self._save_cache(workspace, paths, key)
        job.outputs = {key: self._expand(value, context) for key, value in (definition.get("outputs") or {}).items()}
        job.seconds = time.perf_counter() - started
        return job

    # the steps

    def _step(self, step: dict, workspace: Path, context: dict, saves: list) -> None:
        job: Job = context["job"]
        outputs: dict[str, str] = {}
        if "run" in step:
            command = self._expand(step["run"], context)
            if command.startswith(MACHINE_SETUP):
                job.log.append(f"  machine set-up, done by this checkout: {command.splitlines()[0][:60]}")
                outputs = {}
            else:
                outputs = self._shell(command, workspace, job)
        else:
            action = step["uses"].split("@")[0]
            arguments = {key: self._expand(_yaml_text(value), context) for key, value in (step.get("with") or {}).items()}
            if action == "actions/checkout":
                self._checkout(workspace)
            elif action in ("actions/cache", "actions/cache/restore"):
                outputs = self._restore_cache(workspace, arguments, job)
                if action == "actions/cache" and outputs["cache-hit"] != "true":
                    saves.append((_paths(arguments["path"]), arguments["key"]))
            elif action == "actions/upload-artifact":
                self._upload(workspace, arguments, job)
            elif action == "actions/download-artifact":
                self._download(workspace, arguments, job)
            else:
                raise SystemExit(f"{WORKFLOW}: this replay does not know the action {action}")
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": outputs}

    def _checkout(self, workspace: Path) -> None:
        tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        for name in filter(None, tracked.decode().split("\0")):
            source = ROOT / name
            if source.is_file():
                (workspace / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, workspace / name)
        for name, text in self.changed.items():
            (workspace / name).write_text(text, encoding="utf-8")
        (workspace / ".venv").symlink_to(ROOT / ".venv")

    def _shell(self, command: str, workspace: Path, job: Job) -> dict[str, str]:
        output_file = workspace.parent / f"{workspace.name}.github-output"
        output_file.write_text("")
        environment = dict(os.environ, GITHUB_OUTPUT=str(output_file))
        started = time.perf_counter()
        result = subprocess.run(["bash", "-e", "-c", command], cwd=workspace, env=environment,
                                capture_output=True, text=True)
        seconds = time.perf_counter() - started
        shown = [line for line in (result.stdout + result.stderr).splitlines()
                 if line.startswith(("en ", "km ", "ja ", "build:", "extract:", "error", "warnings"))]
        job.log.append(f"  $ {command.splitlines()[0][:100]}  ({seconds:.1f} s)")
        job.log.extend(f"    {line}" for line in shown)
        if result.returncode:
            print("\n".join(job.log), result.stdout[-3000:], result.stderr[-3000:], sep="\n")
            raise SystemExit(f"job {job.title}: the step failed with exit {result.returncode}")
        outputs = {}
        for line in output_file.read_text().splitlines():
            key, _, value = line.partition("=")
            outputs[key] = value
        return outputs

    # caches and artifacts

    def _restore_cache(self, workspace: Path, arguments: dict[str, str], job: Job) -> dict[str, str]:
        key = arguments["key"]
        candidates = [key] + [prefix for prefix in _list(arguments.get("restore-keys"))]
        hit = None
        for wanted in candidates:
            if (self.caches / _safe(wanted)).is_dir() and wanted == key:
                hit = self.caches / _safe(key)
                break
            matches = sorted((entry for entry in self.caches.glob("*") if entry.name.startswith(_safe(wanted))),
                             key=lambda entry: entry.stat().st_mtime, reverse=True) if self.caches.is_dir() else []
            if matches and wanted != key:
                hit = matches[0]
                break
        if hit is None:
            if arguments.get("fail-on-cache-miss") == "true":
                raise SystemExit(f"job {job.title}: the cache {key} is missing")
            job.log.append(f"  cache miss: {key[:70]}")
            return {"cache-hit": "false"}
        _copy_tree(hit, workspace)
        exact = hit.name == _safe(key)
        job.log.append(f"  cache {'hit' if exact else 'restored from a prefix'}: {hit.name[:70]}")
        return {"cache-hit": "true" if exact else "false"}

    def _save_cache(self, workspace: Path, paths: list[str], key: str) -> None:
        entry = self.caches / _safe(key)
        if entry.exists():
            return  # a cache entry is immutable once saved
        for path in paths:
            for found in glob.glob(str(workspace / path), recursive=True):
                _copy_into(Path(found), workspace, entry)
        entry.mkdir(parents=True, exist_ok=True)

    def _upload(self, workspace: Path, arguments: dict[str, str], job: Job) -> None:
        patterns = _paths(arguments["path"])
        included = [p for p in patterns if not p.startswith("!")]
        excluded = [p[1:].rstrip("/") for p in patterns if p.startswith("!")]
        hidden = arguments.get("include-hidden-files") == "true"
        files: list[Path] = []
        for pattern in included:
            for found in glob.glob(str(workspace / pattern), recursive=True):
                found_path = Path(found)
                candidates = [found_path] if found_path.is_file() else sorted(p for p in found_path.rglob("*") if p.is_file())
                files.extend(candidates)
        kept = []
        for file in files:
            relative = file.relative_to(workspace).as_posix()
            if any(relative == e or relative.startswith(e + "/") or fnmatch.fnmatch(relative, e) for e in excluded):
                continue
            if not hidden and any(part.startswith(".") for part in Path(relative).parts):
                continue
            kept.append(file)
        if not kept:
            raise SystemExit(f"job {job.title}: upload {arguments['name']}: no files found")
        root = Path(os.path.commonpath([str((workspace / p.rstrip("/")).parent if (workspace / p.rstrip("/")).is_file()
                                             else workspace / p.rstrip("/")) for p in included]))
        store = self.artifacts / arguments["name"]
        for file in kept:
            target = store / file.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, target)
        job.log.append(f"  uploaded {arguments['name']}: {len(kept)} files")

    def _download(self, workspace: Path, arguments: dict[str, str], job: Job) -> None:
        pattern = arguments.get("pattern", "*")
        destination = workspace / arguments.get("path", ".")
        merge = arguments.get("merge-multiple") == "true"
        names = sorted(entry.name for entry in self.artifacts.iterdir() if fnmatch.fnmatch(entry.name, pattern))
        for name in names:
            _copy_tree(self.artifacts / name, destination if merge else destination / name)
        job.log.append(f"  downloaded {len(names)} artifacts into {arguments.get('path', '.')}")

    # expressions

    def _expand(self, text: str, context: dict) -> str:
        return EXPRESSION.sub(lambda match: self._value(match.group(1), context), text)

    def _value(self, expression: str, context: dict) -> str:
        call = re.fullmatch(r"hashFiles\((.*)\)", expression)
        if call:
            patterns = [p.strip().strip("'") for p in call.group(1).split(",")]
            return _hash_files(context["workspace"], patterns)
        path = expression.split(".")
        if path[0] == "matrix":
            return context["matrix"][path[1]]
        if path[0] == "steps":
            return context["steps"].get(path[1], {}).get("outputs", {}).get(path[3], "")
        if path[0] == "needs":
            [job] = self.done[path[1]]
            return job.outputs[path[3]]
        if expression == "github.sha":
            return self.sha
        raise SystemExit(f"{WORKFLOW}: this replay cannot evaluate ${{{{ {expression} }}}}")

    def _true(self, condition: str, context: dict) -> bool:
        match = re.fullmatch(r"(\S+)\s*(==|!=)\s*'([^']*)'", condition.strip())
        if not match:
            raise SystemExit(f"{WORKFLOW}: this replay cannot evaluate the condition {condition!r}")
        value = self._value(match.group(1), context)
        return (value == match.group(3)) == (match.group(2) == "==")


def _matrix(definition: dict) -> list[dict[str, str]]:
    """The job's matrix combinations with GitHub's rules: the axes' product, minus ``exclude``; an ``include``
    entry extends every combination it does not contradict, and is a combination of its own otherwise."""
    axes = dict((definition.get("strategy") or {}).get("matrix") or {})
    if not axes:
        return [{}]
    includes = [{k: str(v) for k, v in entry.items()} for entry in axes.pop("include", None) or []]
    excludes = [{k: str(v) for k, v in entry.items()} for entry in axes.pop("exclude", None) or []]
    names = list(axes)
    combinations = [dict(zip(names, map(str, values))) for values in itertools.product(*(axes[name] for name in names))]
    combinations = [c for c in combinations if not any(all(c.get(k) == v for k, v in e.items()) for e in excludes)]
    originals = [dict(c) for c in combinations]
    for entry in includes:
        fitting = [c for c, original in zip(combinations, originals)
                   if all(original.get(k, v) == v for k, v in entry.items() if k in names)]
        if fitting:
            for combination in fitting:
                combination.update(entry)
        else:
            combinations.append(entry)
    return combinations


def _yaml_text(value: object) -> str:
    """A ``with:`` value as the action receives it: YAML's booleans as ``true``/``false``."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    return [str(item) for item in value]  # type: ignore[union-attr]


def _paths(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _safe(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", key)


def _hash_files(workspace: Path, patterns: list[str]) -> str:
    digest = hashlib.sha256()
    for pattern in patterns:
        for found in sorted(glob.glob(str(workspace / pattern), recursive=True)):
            if Path(found).is_file():
                digest.update(hashlib.sha256(Path(found).read_bytes()).digest())
    return digest.hexdigest()


def _copy_into(found: Path, workspace: Path, entry: Path) -> None:
    target = entry / found.relative_to(workspace)
    if found.is_dir():
        shutil.copytree(found, target, dirs_exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(found, target)


def _copy_tree(source: Path, destination: Path) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, destination, dirs_exist_ok=True)


def _compare(reference: Path, gathered: Path) -> list[str]:
    """Every edition file the one-machine build made, against the gathered ones: the names that differ."""
    different = []
    for file in sorted(reference.rglob("*")):
        relative = file.relative_to(reference)
        if file.is_dir() or relative.parts[0] in (".cache",) or file.name in (".press.lock", "manifest.json"):
            continue
        other = gathered / relative
        if not other.is_file() or other.read_bytes() != file.read_bytes():
            different.append(str(relative))
    return different


def _report(replay: Replay, jobs: list[Job], total: float, verbose: bool) -> list[str]:
    """Print what each job did and the run's times; return the editions the gather job laid out again."""
    for job in jobs:
        print(f"{job.title}: {job.seconds:.1f} s")
        if verbose:
            print("\n".join(job.log))
    [gather] = replay.done["gather"]
    rebuilt = [line.strip() for line in gather.log if re.match(r"\s+(en|km|ja)\s+\S+\s+built", line)]
    editions = max(job.seconds for job in replay.done["edition"])
    critical = replay.done["prepare"][0].seconds + editions + gather.seconds
    print(f"fanout: {len(jobs)} jobs; one after another {total:.1f} s; as GitHub runs them (prepare, the "
          f"slowest edition job, gather) {critical:.1f} s")
    print(f"fanout: the gather job laid out {len(rebuilt)} edition(s) again" + (": " + "; ".join(rebuilt) if rebuilt else ""))
    return rebuilt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="replay in this folder and keep it (default: a temporary one)")
    parser.add_argument("--no-reference", action="store_true", help="skip the one-machine build to compare with")
    parser.add_argument("--edit", action="store_true",
                        help="then run the workflow again on a commit that changes one sentence of chapter 1")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every job's steps")
    options = parser.parse_args()
    scratch = options.keep or Path(tempfile.mkdtemp(prefix="fanout-"))
    scratch.mkdir(parents=True, exist_ok=True)
    caches = scratch / "actions-cache"
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    runs = [(sha, {})]
    if options.edit:
        manuscript = (ROOT / "source" / "manuscript.txt").read_text(encoding="utf-8")
        edited = manuscript.replace("cornerstones of stability", "cornerstones (edited) of stability", 1)
        runs.append((hashlib.sha1(edited.encode()).hexdigest(), {"source/manuscript.txt": edited}))
    status = 0
    for number, (commit, changed) in enumerate(runs, 1):
        print(f"fanout: run {number}" + (" (one sentence of chapter 1 changed)" if changed else " (cold caches)"))
        run_scratch = scratch / f"run-{number}"
        run_scratch.mkdir(exist_ok=True)
        replay = Replay(WORKFLOW, run_scratch, caches, commit, changed)
        started = time.perf_counter()
        jobs = replay.run()
        status |= bool(_report(replay, jobs, time.perf_counter() - started, options.verbose))
        if not options.no_reference:
            reference = run_scratch / "one-machine"
            reference.mkdir(exist_ok=True)
            replay._checkout(reference)
            subprocess.run([str(ROOT / ".venv/bin/press"), "build"], capture_output=True, cwd=reference, check=True)
            different = _compare(reference / "output", run_scratch / "artifacts" / "editions")
            print(f"fanout: against a one-machine build, {len(different)} file(s) differ" +
                  (": " + ", ".join(different) if different else " (every edition and report byte-equal)"))
            status |= bool(different)
    if not options.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
