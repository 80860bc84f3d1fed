# Extracts data-only test vectors from packaging's test suite (no code is copied).
import ast, json, sys
def params(path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    consts = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try: consts[node.targets[0].id] = ast.literal_eval(node.value)
            except Exception: pass
    found = {}
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef): continue
        for dec in fn.decorator_list:
            if isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "parametrize":
                try:
                    values = ast.literal_eval(dec.args[1])
                except Exception:
                    if isinstance(dec.args[1], ast.Name): values = consts.get(dec.args[1].id)
                    else:
                        # list comprehensions over literals only: evaluate without builtins
                        try: values = eval(compile(ast.Expression(dec.args[1]), path, "eval"), {"__builtins__": {}}, {})
                        except Exception: values = None
                found.setdefault(fn.name, values)
    return found
v = params("test_version.py")
s = params("test_specifiers.py")
def rows(name, keep):
    return [keep(*row) for row in s[name] if keep(*row) is not None]
out = {
  "_origin": "Extracted (data only) from the test suite of packaging 26.3 (https://github.com/pypa/packaging, sdist packaging-26.3.tar.gz: tests/test_version.py and tests/test_specifiers.py), dual-licensed Apache-2.0 OR BSD-2-Clause. Regenerate with the script in tests/data/README.md.",
  "versions_sorted": v["test_valid_versions"],
  "versions_invalid": v["test_invalid_versions"],
  "versions_normalized": [list(r) for r in v["test_normalized_versions"]],
  "specifier_contains_prereleases_true": (
      [[spec, ver, exp] for (ver, spec, exp) in s["test_specifiers"]]
      + [[spec, ver, exp] for (spec, ver, exp) in s["test_contains_post_release_boundary_intersection"]]
      + [[spec, ver, exp] for (spec, pre, ver, exp) in s["test_contains_exclusionary_bridges"] if pre is True]
      + [[spec, ver, exp] for (spec, ver, sp, cp, inst, exp) in s["test_specifier_contains_installed_prereleases"] if cp is True]
  ),
  "specifier_contains_installed": [[spec, ver, exp] for (spec, ver, sp, cp, inst, exp) in s["test_specifier_contains_installed_prereleases"] if inst is True and cp is None and sp is None],
  "specifier_contains_default": [[spec, ver, exp] for (ver, spec, exp) in s["test_comparison_ignores_local"]],
  "specifiers_invalid": s["test_specifiers_invalid"],
}
json.dump(out, sys.stdout, indent=1, ensure_ascii=True)
