"""A standalone clone of Go's ``text/template`` (Go 1.19 semantics), compiled to Python.

No confd knowledge lives here: confd's functions are registered by the caller.

>>> from confpy.gotemplate import Template
>>> Template("t").parse('{{range .}}{{printf "%s;" .}}{{end}}').execute(["a", "b"])
'a;b;'
"""

from .errors import TemplateError as TemplateError
from .errors import TemplateExecError as TemplateExecError
from .errors import TemplateSyntaxError as TemplateSyntaxError
from .template import Template as Template
from .values import MISSING as MISSING
from .values import GoList as GoList
from .values import GoMap as GoMap
from .values import IntList as IntList
from .values import StringList as StringList
from .values import StringMap as StringMap

__all__ = [
    "MISSING",
    "GoList",
    "GoMap",
    "IntList",
    "StringList",
    "StringMap",
    "Template",
    "TemplateError",
    "TemplateExecError",
    "TemplateSyntaxError",
]
