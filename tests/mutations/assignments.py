"""One-line bugs of the classroom kit (src/genmodels/assignments/) that the fast tests must catch."""
from tests.mutations import Mutation

_FAST = ("tests/test_grading.py",)

MUTATIONS = [
    Mutation(file="src/genmodels/assignments/course.py", find="        if key not in config.get(section, {}):",
             replace="        if True:", why="the teacher's settings are appended again (course id, timeout overwritten)",
             tests=_FAST),
    Mutation(file="src/genmodels/assignments/course.py", find='    with path.open("a", encoding="utf-8") as f:',
             replace='    with path.open("w", encoding="utf-8") as f:', why="nbgrader_config.py rewritten, not appended",
             tests=_FAST),
    Mutation(file="src/genmodels/assignments/statements.py", find="        return titled[\"title\"]  # {doc}",
             replace="        return titled[\"target\"]  # {doc}", why="a titled reference shows its target, not its text",
             tests=_FAST),
    Mutation(file="src/genmodels/assignments/statements.py", find="        if stack and _closes(line, stack[-1]):",
             replace="        if False:", why="a directive's closing fence is left in the statement", tests=_FAST),
    Mutation(file="src/genmodels/assignments/grading.py", find="            if len(others) == 1:",
             replace="            if len(others) >= 1:", why="one of several notebooks graded at random", tests=_FAST),
    Mutation(file="src/genmodels/assignments/grading.py",
             find="    if submissions.resolve() == workspace or workspace in submissions.resolve().parents:",
             replace="    if False:", why="the kit's workspace accepted as a submissions folder", tests=_FAST),
    Mutation(file="src/genmodels/assignments/report.py",
             find="        kept = [t.string for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL,",
             replace="        kept = [t.string for t in tokens if t.type not in (tokenize.NL,",
             why="comments count when comparing with the book's solution", tests=_FAST),
    Mutation(file="src/genmodels/assignments/report.py",
             find="            writer.writerow([student, *cells, PENDING if pending else _fmt(total), _fmt(total),",
             replace="            writer.writerow([student, *cells, _fmt(total), _fmt(total),",
             why="the LMS total posts a partial sum while written answers are pending", tests=_FAST),
    Mutation(file="src/genmodels/assignments/report.py", find="    return f\"{name}: {first}\"",
             replace="    return name", why="the reason drops the assertion message", tests=_FAST),
]
