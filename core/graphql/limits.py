"""Depth and cost limits of a GraphQL operation, checked on its syntax tree before it runs.

Depth counts nested field selections (fragments are transparent; introspection fields are
free). Cost estimates how many objects the answer may hold: each object-typed field counts
once per parent it may appear under, a connection's items count ``first`` times (50 when not
given, at most 500) and a plain list counts ``LIST_SIZE`` items. docs/graphql.md documents the
numbers; a refusal names the limit and the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

MAX_DEPTH = 10
MAX_COST = 50_000
MAX_FIRST = 500
DEFAULT_FIRST = 50
# Assumed length of a list that is not paginated (a delivery's attempts: the retry schedule).
LIST_SIZE = 10


class LimitExceeded(Exception):
    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclass
class Estimate:
    depth: int
    cost: int


def _is_connection(type_: GraphQLObjectType) -> bool:
    return "edges" in type_.fields and "pageInfo" in type_.fields


def _first(node: FieldNode, variables: dict) -> int:
    for argument in node.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
        elif isinstance(value, IntValueNode):
            given = int(value.value)
        else:
            given = None
        if given is None:
            return DEFAULT_FIRST
        if given > MAX_FIRST:
            raise LimitExceeded(f"first is at most {MAX_FIRST} (got {given})", "validation_error")
        return max(given, 0)
    return DEFAULT_FIRST


class _Walker:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode], variables: dict):
        self.fragments = fragments
        self.variables = variables

    def selections(self, selection_set: SelectionSetNode | None):
        """The field nodes of a selection set, fragments inlined (their cycles were refused by
        validation already)."""
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from self.selections(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    yield from self.selections(fragment.selection_set)

    def walk(self, selection_set, parent, multiplier: int, depth: int) -> Estimate:
        deepest, cost = depth, 0
        for node in self.selections(selection_set):
            name = node.name.value
            if name.startswith("__") or not isinstance(parent, GraphQLObjectType):
                continue  # introspection, or a type this API does not have (unions, interfaces)
            field = parent.fields.get(name)
            if field is None:
                continue
            field_type = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            named = get_named_type(field_type)
            deepest = max(deepest, depth + 1)
            if not isinstance(named, GraphQLObjectType):
                continue
            count = multiplier
            if isinstance(field_type, GraphQLList) and name != "edges":  # edges: counted by first
                count = multiplier * LIST_SIZE
            cost += count
            inner = count * _first(node, self.variables) if _is_connection(named) else count
            below = self.walk(node.selection_set, named, inner, depth + 1)
            deepest, cost = max(deepest, below.depth), cost + below.cost
        return Estimate(deepest, cost)


def estimate(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict,
) -> Estimate:
    """Depth and cost of ``operation``; ``LimitExceeded`` for a ``first`` above the maximum."""
    root = schema.get_root_type(operation.operation)
    return _Walker(fragments, variables).walk(operation.selection_set, root, 1, 0)


def check(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict,
) -> list[GraphQLError]:
    """The refusals of ``operation`` (an empty list when it may run)."""
    try:
        found = estimate(schema, operation, fragments, variables)
    except LimitExceeded as exc:
        return [GraphQLError(str(exc), extensions={"code": exc.code})]
    if found.depth > MAX_DEPTH:
        return [
            GraphQLError(
                f"the query is {found.depth} levels deep; at most {MAX_DEPTH} are allowed",
                extensions={"code": "query_too_deep"},
            )
        ]
    if found.cost > MAX_COST:
        return [
            GraphQLError(
                f"the query may return {found.cost} objects; at most {MAX_COST} are "
                "allowed (ask for fewer items with first)",
                extensions={"code": "query_too_costly"},
            )
        ]
    return []
