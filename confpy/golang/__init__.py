"""Go's standard-library semantics, one module per Go package, with no confd knowledge.

``strconv`` (numbers, bools, quoting), ``path`` (Clean, Join, Match), ``strings`` (case
mapping, the bytes of a Go string), ``duration`` (time.Duration, time.ParseDuration),
``time`` (time.Time, layouts, zones) and ``arith`` (Go's int64 arithmetic). Nothing here
imports the rest of confpy, so ``confpy.gotemplate`` can use it and stay publishable
alone. The package imports none of its modules: each caller loads only what it uses.
"""
