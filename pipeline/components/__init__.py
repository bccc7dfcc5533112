"""spaCy components and architectures; importing this package registers them."""
from . import optimizer, place_filter, relabeler, relation, relation_model, span_label_model, transformer  # noqa: F401
