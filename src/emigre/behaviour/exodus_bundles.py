"""The exodus kernels' argument bundles (emigre.behaviour.exodus_kernels): arrays and scalars grouped by concern.

A bundle is a Numba StructRef - one reference-counted object - not a tuple: a tuple of ~30 arrays passed into an
inlined helper is copied, and every copy increfs and decrefs each of its arrays (atomic operations: a third of a
calibration evaluation's CPU time went to them before, benchmarks/README.md). Each is built from Python with
``Travellers(...)`` etc. (by position or field name) through a cached factory, so nothing is compiled per process;
the kernels read their fields (``t.head``) and write through their arrays in place. Field names are the kernels'
local names.
"""

from __future__ import annotations

from numba import njit, types
from numba.experimental import structref


class _Bundle(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


def _builder(name: str, make, fields: tuple[str, ...], proxy):
    """A bundle's constructor from Python: arguments by position or field name, built by the cached ``make``
    (registered for :func:`replace` under its proxy class)."""

    def build(*args, **kwargs):
        if kwargs:
            rest = fields[len(args):]
            if sorted(kwargs) != sorted(rest):
                raise TypeError(f"{name}: fields {list(rest)} expected, got {sorted(kwargs)}")
            args = args + tuple(kwargs[f] for f in rest)
        if len(args) != len(fields):
            raise TypeError(f"{name}: {len(fields)} fields expected, got {len(args)}")
        return make(*args)

    build.__name__ = build.__qualname__ = name
    build._fields = fields
    _BUILDERS[proxy] = build
    return build


#: each bundle's Python constructor by its proxy class (filled by ``_builder``)
_BUILDERS: dict = {}


def _bundle(name: str, fields: tuple[str, ...]):
    """A bundle kind's Python constructor (``_kind`` for its type and proxy, ``_builder`` around a cached
    factory). The factory is a closure over the kind's proxy: Numba caches it per kind (a closure's cache key
    includes its cells' contents, pickled - the proxy by reference), so no process compiles the bundles anew."""
    proxy = _kind(name, fields)

    @njit(cache=True)
    def make(*args):
        return proxy(*args)

    return _builder(name, make, fields, proxy)


def _kind(name: str, fields: tuple[str, ...]):
    """A bundle kind: its Numba type ``<name>Type`` and its Python proxy ``<name>Bundle`` (module attributes, so
    that Numba's cache can pickle the type by reference); returns the proxy."""
    typ = type(f"{name}Type", (_Bundle,), {"__module__": __name__, "__doc__": f"Numba type of a {name} bundle."})
    proxy = type(f"{name}Bundle", (structref.StructRefProxy,),
                 {"__module__": __name__, "__doc__": f"A {name} bundle held by Python (built by :data:`{name}`)."})
    structref.register(typ)
    structref.define_proxy(proxy, typ, list(fields))
    globals()[typ.__name__], globals()[proxy.__name__] = typ, proxy
    return proxy


#: The travellers' arrays (one slot each) and the day buckets ``head`` (linked through ``nxt``).
TRAVELLERS_FIELDS = tuple((
    "key cell reason doc special state place path step dest country due nxt decided tries qlink ticket "
    "qsince exit_link departed_day arrived limit_day ret_day onw_day regular nevent qprev qnext legs head"
).split())
Travellers = _bundle("Travellers", TRAVELLERS_FIELDS)


#: Per-cell tables of the population (origin, age, sex, education, IT, reservist) and per-reason urgency.
CELLS_FIELDS = tuple((
    "cell_origin_idx cell_origin_place cell_age cell_sex cell_edu cell_it cell_reservist reason_urgent "
    "n_reasons"
).split())
Cells = _bundle("Cells", CELLS_FIELDS)


#: The compiled world: routes per origin, links by day, entry rules by day x country x document, destinations
#: (per country: ``unknown_stay`` the stay where no entry rule gives one; ``draft_share`` the share of travellers
#: fleeing the draft for whom the country is a refuge at all; per day ``rule_epoch``, exodus.rule_epochs); per pair
#: of countries the onward flight's hours and log fare (``onward_tables``), and ``onward_w`` the onward choice's
#: scratch weights.
WORLD_FIELDS = tuple((
    "origin_path_start path_links path_len path_entry path_dest path_next path_hours path_logcost "
    "path_exit path_borders link_intl link_hours link_mode link_exit link_open link_restricted "
    "place_country entry_admitted entry_modes entry_max_stay unknown_stay country_main_place dest_static "
    "net_base arrivals_cum scale n_countries draft_share rule_epoch onward_hours onward_logcost onward_w"
).split())
World = _bundle("World", WORLD_FIELDS)


#: The choice classes (origin x document x special grounds x urgency) and today's tables; per class its feasible
#: routes (``feas[k, :n_feas[k]]``, places among its origin's routes, in order) as of the rule epoch
#: ``feas_epoch`` (-1: not computed yet), and ``cum`` the cumulative probabilities over those routes.
CHOICE_FIELDS = tuple((
    "n_classes class_index class_origin class_doc class_special class_urgent cum class_ok need util expu "
    "feas n_feas feas_epoch"
).split())
Choice = _bundle("Choice", CHOICE_FIELDS)


#: Per exit link: tickets issued and served, today's capacity, tickets of those who left; the waiting travellers
#: in ticket order (``qhead``/``qtail``, linked through the travellers' ``qprev``/``qnext``) and the days on which
#: the link's state or its entry rules change (``wake`` [day, link]: every waiting traveller looks again).
QUEUES_FIELDS = tuple((
    "enq served remaining cap_today cap_n ghost qhead qtail wake"
).split())
Queues = _bundle("Queues", QUEUES_FIELDS)


#: The run's parameters as the kernels use them (rates per day, shares - permit and border-run per country -,
#: choice coefficients; per country the share seeking a permit on arrival, and the days to the application).
PARAMS_FIELDS = tuple((
    "patience_days give_up_days land_refusal_share land_refusal_on exit_ban_share exit_ban_on "
    "regularise_share visa_run_share onward_share onward_rate return_rate b_hours urgency b_cost b_stay "
    "b_net b_border mu seek_share apply_days temporary_share temporary_rate again_share again_days"
).split())
Params = _bundle("Params", PARAMS_FIELDS)


#: Running counters and the day x ... result arrays the kernels write.
OUTPUTS_FIELDS = tuple((
    "cnt present_place present_country present_cr abroad_by arrivals_c dep_by nat link_out link_in "
    "wait_sum visa_runs regularised onward_c log nlog cstat"
).split())
Outputs = _bundle("Outputs", OUTPUTS_FIELDS)


def _field(bundle, name: str):
    """One field of ``bundle`` read from Python (a jitted getter per kind and field, compiled on first use)."""
    key = (type(bundle), name)
    if key not in _GETTERS:
        scope = {"njit": njit}
        exec(f"@njit\ndef get(st):\n    return st.{name}\n", scope)  # noqa: S102 (a field name of the bundle)
        _GETTERS[key] = scope["get"]
    return _GETTERS[key](bundle)


_GETTERS: dict = {}


def replace(bundle, **changes):
    """A new bundle of ``bundle``'s kind with ``changes`` (field=value) and its other fields (NamedTuple's
    ``_replace``; for tests and what-if probes - reading each field from Python compiles its getter once)."""
    build = _BUILDERS[type(bundle)]
    unknown = sorted(set(changes) - set(build._fields))
    if unknown:
        raise TypeError(f"{build.__name__}: no fields {unknown}")
    return build(*[changes[f] if f in changes else _field(bundle, f) for f in build._fields])
