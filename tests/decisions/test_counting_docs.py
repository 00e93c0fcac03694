"""The recount example of docs/voting.md ("Recount it yourself") runs and gives our result."""

from __future__ import annotations

import contextlib
import io
import random
import re
from pathlib import Path

from herzstadt.decisions.counting import RULES, Instance, Project, write_pb
from tests.conftest import DATABASE_INDEPENDENT

pytestmark = DATABASE_INDEPENDENT

DOC = Path(__file__).resolve().parents[2] / "docs" / "voting.md"


def test_the_recount_example_in_the_docs_gives_our_result(tmp_path):
    section = DOC.read_text(encoding="utf-8").split("### Recount it yourself", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) <= 12

    rng = random.Random(7)
    projects = tuple(Project(f"v{i:02}", rng.randrange(2_000, 30_001, 500)) for i in range(10))
    inst = Instance(60_000, projects)
    ballots = [dict.fromkeys(rng.sample(inst.ids, rng.randint(1, 4)), 1) for _ in range(80)]
    path = tmp_path / "buergerbudget.pb"
    path.write_text(write_pb(inst, ballots, meta={"rule": "equalshares"}, style="approval"))

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code.replace('"buergerbudget.pb"', repr(str(path))), {})
    mes = list(RULES["mes"].count(inst, ballots).winners)
    greedy = list(RULES["greedy"].count(inst, ballots).winners)
    assert out.getvalue().splitlines() == [f"Equal shares: {mes}", f"Greedy: {greedy}"]
    assert mes != greedy  # the example is not trivial
