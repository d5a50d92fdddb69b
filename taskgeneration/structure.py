"""The form of every reply, stated so that a backend can enforce it instead of the parser rejecting it afterwards.

Each stage asks for numbered lines (``N: v1, ..., vD, label`` for data, ``N. name, ..., name`` for labels). Here
that form is written twice, once per backend:

- as an EBNF grammar for the local backend, which decodes under it with xgrammar (``ermi.llm``): every token
  that would leave the grammar is masked, so a reply is exactly ``num_data`` rows, numbered 1..N, D plain numbers
  each, and, in categorisation, a label from the task's two category names with both of them used at least once;
- as a JSON schema for the Messages API's tool use; the tool's input is rendered back into the same numbered
  lines (``reply_text``), so one parser validates both backends' replies, and a reply without the tool call
  falls back to its text.

The parser (parse_generated_tasks.py) stays the single judge of what a usable task is; the grammar only makes
its rejections impossible.
"""
import json

from ermi.llm import Structure

# A plain decimal: at most 4 integer digits and 2 decimals (SmolLM2 spends one token per digit; longer
# numbers only let a small model ramble, and a row then stays under 40 tokens). A name: a letter, then up to 39
# letters, digits, spaces and ' / ( ) - . &.
NUMBER_RULE = 'num ::= "-"? [0-9]{1,4} ("." [0-9]{1,2})?'
NAME_RULE = "name ::= [A-Za-z] [A-Za-z0-9 '/()&.-]{0,39}"
NUMBER_CHARS, NAME_CHARS = 8, 40  # the longest number and name the two rules admit
TOOL = "record_rows"


def _literal(text):
    return json.dumps(text, ensure_ascii=False)  # a double-quoted EBNF string literal (JSON-style escapes)


def _values_rule(num_dim):
    return "vals ::= " + ' ", " '.join(["num"] * num_dim)


def task_grammar(domain, labels, num_data):
    """EBNF for one task's ``num_data`` rows. Categorisation tracks which of the two labels has been used
    (rule ``r{i}_{seen}``, seen a 2-bit set), so the last row cannot leave a category out."""
    num_dim = len(labels["feature_names"])
    if domain != "categorisation":
        rows = " ".join(f'"{i}: " vals ", " num "\\n"' for i in range(1, num_data + 1))
        return "\n".join([f"root ::= {rows}", _values_rule(num_dim), NUMBER_RULE])
    first, second = labels["category_names"]
    if num_data < 2:
        raise ValueError("a categorisation task needs at least 2 rows, one per category")
    if first.lower() == second.lower():
        raise ValueError(f"the two category names are the same: {first!r}")
    rules = ["root ::= r1_0"]
    for i in range(1, num_data + 1):
        for seen in range(4):
            alternatives = []
            for bit, name in ((1, first), (2, second)):
                now = seen | bit
                if i == num_data and now != 3:
                    continue
                rest = f" r{i + 1}_{now}" if i < num_data else ""
                alternatives.append(f"{_literal(name + chr(10))}{rest}")
            if alternatives:
                rules.append(f'r{i}_{seen} ::= "{i}: " vals ", " ({" | ".join(alternatives)})')
    return "\n".join(rules + [_values_rule(num_dim), NUMBER_RULE])


def task_schema(domain, labels, num_data):
    """JSON schema of the same rows, for the Messages API's tool use."""
    num_dim = len(labels["feature_names"])
    values = {"type": "array", "items": {"type": "number"}, "minItems": num_dim, "maxItems": num_dim,
              "description": ", ".join(labels["feature_names"])}
    target = ({"type": "string", "enum": list(labels["category_names"])} if domain == "categorisation"
              else {"type": "number", "description": labels.get("target_name", "target")})
    row = {"type": "object", "properties": {"values": values, "target": target}, "required": ["values", "target"]}
    return {"type": "object", "required": ["rows"],
            "properties": {"rows": {"type": "array", "items": row, "minItems": num_data, "maxItems": num_data}}}


def task_structure(domain, labels, num_data):
    num_dim = len(labels["feature_names"])
    target = max(map(len, labels["category_names"])) if domain == "categorisation" else NUMBER_CHARS
    row = len(f"{num_data}: ") + num_dim * (NUMBER_CHARS + 2) + target + 1
    return Structure(task_grammar(domain, labels, num_data), task_schema(domain, labels, num_data), TOOL,
                     max_chars=num_data * row)


def _label_fields(domain, num_dim, condition):
    """The grammar symbol of each name on one label line, in order."""
    cue = 'name " (" ("+" | "-") ")"' if condition == "direction" else "name"
    if domain == "categorisation":
        return ["name"] * num_dim + ["name", "name"]
    if domain == "functionlearning":
        return ["name"] * num_dim + ["name"]
    return ["name"] + [cue] * num_dim + ["name"]


def tasklabel_grammar(domain, num_dim, num_tasks, condition="none"):
    """EBNF for ``num_tasks`` numbered label lines of exactly the right number of names."""
    line = ' ", " '.join(_label_fields(domain, num_dim, condition))
    lines = " ".join(f'"{i}. " line "\\n"' for i in range(1, num_tasks + 1))
    return "\n".join([f"root ::= {lines}", f"line ::= {line}", NAME_RULE])


def tasklabel_schema(domain, num_dim, num_tasks, condition="none"):
    names = lambda n, what: {"type": "array", "items": {"type": "string"}, "minItems": n, "maxItems": n,  # noqa: E731
                             "description": what}
    if domain == "categorisation":
        fields = {"features": names(num_dim, "feature dimensions"), "categories": names(2, "the two categories")}
    elif domain == "functionlearning":
        fields = {"features": names(num_dim, "input quantities"), "target": {"type": "string"}}
    else:
        fields = {"option": {"type": "string"}, "features": names(num_dim, "cues"), "target": {"type": "string"}}
        if condition == "direction":
            fields["directions"] = {"type": "array", "items": {"enum": ["+", "-"]}, "minItems": num_dim,
                                    "maxItems": num_dim}
    experiment = {"type": "object", "properties": fields, "required": list(fields)}
    return {"type": "object", "required": ["experiments"],
            "properties": {"experiments": {"type": "array", "items": experiment,
                                           "minItems": num_tasks, "maxItems": num_tasks}}}


def tasklabel_structure(domain, num_dim, num_tasks, condition="none"):
    names = len(_label_fields(domain, num_dim, condition))
    line = len(f"{num_tasks}. ") + names * (NAME_CHARS + len(" (+)") + 2) + 1
    return Structure(tasklabel_grammar(domain, num_dim, num_tasks, condition),
                     tasklabel_schema(domain, num_dim, num_tasks, condition), TOOL, max_chars=num_tasks * line)


def _render_rows(rows):
    lines = []
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            continue  # not the schema's form: leave the line out, the row count check then counts it
        values = row.get("values") if isinstance(row.get("values"), list) else []
        lines.append(f"{i}: " + ", ".join(str(v) for v in [*values, row.get("target", "")]))
    return lines


def _render_experiments(experiments):
    lines = []
    for i, e in enumerate(experiments, 1):
        if not isinstance(e, dict):
            continue
        features = [str(f) for f in e.get("features") or []]
        if e.get("directions"):
            features = [f"{f} ({d})" for f, d in zip(features, e["directions"])]
        names = ([e["option"]] if "option" in e else []) + features + \
            (list(e.get("categories") or []) if "categories" in e else [e.get("target", "")])
        lines.append(f"{i}. " + ", ".join(str(n) for n in names))
    return lines


def reply_text(record):
    """The reply as numbered lines: the text itself, or the tool input of a structured (schema) reply rendered
    in the prompt's form. A tool input of the wrong shape renders to fewer lines, never to an exception."""
    structured = record.get("structured")
    if not isinstance(structured, dict):
        return record.get("text", "")
    if isinstance(structured.get("rows"), list):
        return "\n".join(_render_rows(structured["rows"]))
    if isinstance(structured.get("experiments"), list):
        return "\n".join(_render_experiments(structured["experiments"]))
    return record.get("text", "")
