"""The house rules the code keeps: the library in wings with all its SQL in the store wing, defaults
written once in a config that imports nothing it configures, the library free of the application's
setting names, both storage backends keeping the storage contract, one schema, no import circle,
small modules."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

from bot.settings import Settings, in_setting_terms
from index import LibraryConfig
from index.errors import NewsbotError, Notice
from index.store import Store, open_store
from index.store.generations import FileGenerations
from index.store.postgres import PostgresDatabase
from index.store.replica import ReplicaGenerations
from index.store.schema import POSTGRES_SCHEMA, SQLITE_ADDED_COLUMNS, SQLITE_SCHEMA
from index.store.sqlite import Database

ROOT = Path(__file__).resolve().parents[1]
MOST_LINES = 350


def test_settings_take_every_default_from_the_library(tmp_path, monkeypatch):
    for name in [k for k in __import__("os").environ if k.startswith("NEWSBOT_")]:
        monkeypatch.delenv(name)
    settings = Settings(data_dir=tmp_path, _env_file=None)
    assert settings.library_config() == LibraryConfig(data_dir=tmp_path)


def test_the_library_never_names_the_applications_settings():
    named = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "index").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "NEWSBOT_" in line
    ]
    assert named == []


def test_library_parameters_are_shown_as_settings():
    notice = Notice("a headline of 900 characters; kept the first 299 (max_title_chars is 300)", ("max_title_chars",))
    assert in_setting_terms(notice).endswith("(NEWSBOT_MAX_TITLE_CHARS is 300)")
    error = NewsbotError("name the host in fetch_allowed_hosts", parameters=("fetch_allowed_hosts",))
    assert in_setting_terms(error) == "name the host in NEWSBOT_FETCH_ALLOWED_HOSTS"
    assert in_setting_terms("max_title_chars, said of no parameter") == "max_title_chars, said of no parameter"
    with pytest.raises(ValueError):  # a library message can only name what the library has
        in_setting_terms(NewsbotError("the max_titles", parameters=("max_titles",)))


def test_every_library_message_that_names_a_parameter_says_which():
    """A parameter named in a library error or notice without being listed would reach people unnamed
    as a setting: every such message lists what it names."""
    parameters = set(LibraryConfig.model_fields) | {"allowed_hosts"}
    unlisted = []
    for path in sorted((ROOT / "index").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "").endswith(("Error", "Notice"))):
                continue
            words = {
                word
                for part in ast.walk(node)
                if isinstance(part, ast.Constant) and isinstance(part.value, str)
                for word in re.findall(r"[a-z_]+", part.value)
            }
            listed = any(k.arg == "parameters" for k in node.keywords) or (
                node.func.id == "Notice" and len(node.args) > 1
            )
            if words & parameters and not listed:
                unlisted.append(f"{path.relative_to(ROOT)}:{node.lineno} names {sorted(words & parameters)}")
    assert unlisted == []


def _contract() -> dict[str, object]:
    members = {name: value for name, value in vars(Store).items() if not name.startswith("_")}
    members.update({name: None for name in Store.__annotations__})
    return members


@pytest.mark.parametrize("backend", [Database, PostgresDatabase])
def test_each_backend_keeps_the_storage_contract(backend):
    contract = _contract()
    assert len(contract) >= 15
    missing = [name for name in contract if not hasattr(backend, name)]
    assert missing == [], f"{backend.__name__} lacks {missing}"
    for name, declared in contract.items():
        if callable(declared):
            wanted = list(inspect.signature(declared).parameters)
            given = list(inspect.signature(getattr(backend, name)).parameters)
            assert given == wanted, f"{backend.__name__}.{name}{given} is not the contract's {wanted}"


def test_open_store_chooses_the_backend(tmp_path):
    local = open_store(LibraryConfig(data_dir=tmp_path))
    assert isinstance(local.backend, Database) and isinstance(local.backend, Store)
    assert isinstance(local.vectors, FileGenerations) and local.vectors.db is local.backend
    shared = open_store(LibraryConfig(data_dir=tmp_path, database_url="postgresql://nobody@127.0.0.1:9/x"))
    assert isinstance(shared.backend, PostgresDatabase) and isinstance(shared.vectors, ReplicaGenerations)
    for storage in (local, shared):  # every part reads and writes the one backend
        assert storage.vectors.db is storage.backend
        assert {storage.articles.db, storage.sources.db, storage.follows.db, storage.inventory.db} == {storage.backend}


def _tables(schema: str) -> dict[str, set[str]]:
    tables = {}
    schema = re.sub(r"--[^\n]*", "", schema)
    for name, body in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\);$", schema, re.DOTALL | re.MULTILINE):
        columns = re.split(r",\s*(?![^()]*\))", body.strip())  # commas outside parentheses
        tables[name] = {column.split()[0].strip('"') for column in columns}
    return tables


def test_both_schemas_declare_the_same_tables_and_columns():
    sqlite = _tables(SQLITE_SCHEMA)
    for table, columns in SQLITE_ADDED_COLUMNS.items():
        sqlite[table] |= {name for name, _ in columns}
    postgres = _tables(POSTGRES_SCHEMA)
    # Each dialect keeps passages' words its own way (an FTS5 table; a tsvector table), and only
    # PostgreSQL logs vector changes (SQLite's processes read each generation's FAISS file).
    assert "passage_terms" in SQLITE_SCHEMA and "passage_terms" in postgres
    postgres.pop("passage_terms")
    assert set(postgres.pop("vector_log")) == {"generation", "removed", "added", "everything"}
    assert sqlite == postgres


def test_no_module_grows_past_the_line():
    long = {
        str(path.relative_to(ROOT)): lines
        for folder in ("index", "bot", "training")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MOST_LINES
    }
    assert long == {}


WINGS = ("store", "intake", "retrieval", "reader", "backbone")
SQL = re.compile(
    r"\bexecute(many)?\(|\bSELECT\s.+\sFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\bCREATE\s+TABLE\b"
)
DRIVER = re.compile(r"^\s*(import|from)\s+(sqlite3|psycopg)\b|(?<![\w.])(sqlite3|psycopg)\.\w")  # not "news.sqlite3"
PROJECT = ("index", "bot", "training", "benchmarks")


def test_the_library_is_built_in_wings():
    top = sorted(path.name for path in (ROOT / "index").glob("*.py"))
    assert len(top) <= 10, top
    for wing in WINGS:
        assert (ROOT / "index" / wing / "__init__.py").is_file(), f"index/{wing}/ has no public face"


def test_all_the_sql_lives_in_the_store_wing():
    """No SQL and no database driver outside index/store/: the application, the training and the
    benchmarks reach a library's data through the store wing's domain methods."""
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in PROJECT
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.parent != ROOT / "index" / "store"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SQL.search(line) or DRIVER.search(line)
    ]
    assert found == []
    assert SQL.search('conn.execute("SELECT id FROM follows")')  # the test sees SQL where there is some
    assert DRIVER.search("import sqlite3") and DRIVER.search("    conn = psycopg.connect(url)")
    assert not DRIVER.search('cache.glob("*/*/news.sqlite3")')


SCRIPTS = {path.stem for path in (ROOT / "benchmarks").glob("*.py")}  # benchmarks import each other by bare name


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The project's modules a module imports when it loads or names for the type checker (not those
    imported inside functions); a name taken from an index wing's public face counts as its home
    module's, a benchmark imported by its bare name as `benchmarks.<name>`."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    nodes = [n for node in body for n in (node.body if _type_checking(node) else [node])]
    names = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module:
            top = node.module.split(".")[0]
            if top in SCRIPTS and path.parent == ROOT / "benchmarks":
                names.add(f"benchmarks.{node.module}")
            elif top == "index":
                face = importlib.import_module(node.module)
                homes = getattr(face, "_HOMES", {}) if node.module.count(".") == 1 else {}
                names |= {homes.get(alias.name, node.module) for alias in node.names}
            elif top in PROJECT:
                names.add(node.module)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top in SCRIPTS and path.parent == ROOT / "benchmarks":
                    names.add(f"benchmarks.{alias.name}")
                elif top in PROJECT:
                    names.add(alias.name)
    return names


def _type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def test_config_imports_nothing_it_configures():
    assert _imports(ROOT / "index" / "config.py") == set()


def _import_graph() -> dict[str, set[str]]:
    return {
        _module_name(path): {m for m in _imports(path) if m != _module_name(path)}
        for folder in PROJECT
        for path in (ROOT / folder).rglob("*.py")
    }


def test_the_import_graph_sees_every_kind_of_import():
    graph = _import_graph()
    assert "index.backbone.loading" in graph["index.retrieval.embed"]  # through a wing's face
    assert "bot.settings" in graph["bot.checks"]  # for the type checker only
    assert "benchmarks.parts" in graph["benchmarks.speed"]  # a benchmark by its bare name
    assert "training.proposals" in graph["training.calibrate"]


def test_no_import_circle():
    """Nowhere in index/, bot/, training/ or benchmarks/ does a module import, even only for the
    type checker, a module that imports it back (`bot/app.py` and `bot/checks.py` once did)."""
    modules = _import_graph()
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2 or name not in modules:
            return
        assert state.get(name) != 1, " -> ".join([*trail[trail.index(name) :], name])
        state[name] = 1
        for imported in sorted(modules[name]):
            visit(imported, [*trail, name])
        state[name] = 2

    for name in sorted(modules):
        visit(name, [])


def test_training_and_benchmarks_import_without_path_edits():
    edits = [
        str(path.relative_to(ROOT))
        for folder in ("training", "benchmarks")
        for path in sorted((ROOT / folder).glob("*.py"))
        if "sys.path" in path.read_text(encoding="utf-8")
    ]
    assert edits == []


# What the application may import of the library: the facade (`index`: the Library, its config, and
# the few helpers a command line needs), the row types it reads back and the errors it catches.
BOT_MAY_IMPORT = {"index", "index.models", "index.errors"}


def _written_imports(path: Path) -> set[str]:
    """The modules a module names in its import statements, as written, wherever they stand (inside
    functions too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


def test_the_application_imports_only_the_librarys_face():
    """bot/ reaches the library through `index` (the facade), `index.models` and `index.errors`:
    no arrow from bot/ into a wing (index.store, index.intake, ...) or another module of index/."""
    past = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        for module in sorted(_written_imports(path))
        if module.split(".")[0] == "index" and module not in BOT_MAY_IMPORT
    ]
    assert past == []
    assert "index.store" in _written_imports(ROOT / "index" / "library.py")  # the test sees imports


def _wing_of(path: Path) -> str | None:
    parts = path.relative_to(ROOT).parts
    return parts[1] if parts[0] == "index" and len(parts) > 2 and parts[1] in WINGS else None


def test_each_wings_face_is_what_its_neighbours_use():
    """A wing's `__all__` names exactly what index/ and bot/ outside it take from it (the facade's
    lazy names included); training/, benchmarks/ and tests/ import anything else by its module path."""
    taken: dict[str, set[str]] = {wing: set() for wing in WINGS}
    for folder in ("index", "bot"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.count(".") == 1:
                    top, wing = node.module.split(".")
                    if top == "index" and wing in WINGS and wing != _wing_of(path):
                        taken[wing] |= {alias.name for alias in node.names}
    facade = importlib.import_module("index")
    for name, home in facade._HOMES.items():
        if home.removeprefix("index.") in WINGS:
            taken[home.removeprefix("index.")].add(name)
    for wing in WINGS:
        face = importlib.import_module(f"index.{wing}")
        assert set(face._HOMES) == set(face.__all__), wing
        assert sorted(face.__all__) == sorted(taken[wing]), f"index/{wing}/__init__.py hands out what no neighbour uses"


def test_no_neighbour_reaches_into_a_wing():
    """Outside a wing, index/ and bot/ import it through its face (`index.store`), never one of its
    modules (`index.store.sqlite`)."""
    reached = [
        f"{path.relative_to(ROOT)} imports {module}"
        for folder in ("index", "bot")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for module in sorted(_written_imports(path))
        if (parts := module.split("."))[0] == "index"
        and len(parts) > 2
        and parts[1] in WINGS
        and parts[1] != _wing_of(path)
    ]
    assert reached == []
    assert _wing_of(ROOT / "index" / "store" / "sqlite.py") == "store"
    assert _wing_of(ROOT / "index" / "library.py") is None


def test_every_default_is_written_once():
    """The application's settings add only its own (each library parameter is LibraryConfig's, as it
    is declared there); the library's parts default to what the configuration does."""
    from index.intake.chunk import Chunker
    from index.reader.extractive import ExtractiveReader
    from index.retrieval.embed import Embedder

    assert set(Settings.__annotations__) & set(LibraryConfig.model_fields) == set()
    for name, field in LibraryConfig.model_fields.items():
        assert Settings.model_fields[name].description == field.description, name
    defaults = {name: field.default for name, field in LibraryConfig.model_fields.items()}
    assert Chunker().max_words == defaults["passage_words"]
    assert Embedder().batch_size == defaults["embed_batch_size"]
    reader = inspect.signature(ExtractiveReader).parameters
    assert reader["bfloat16"].default == defaults["reader_bfloat16"]
    assert reader["passages"].default == defaults["reader_passages"]


def test_env_example_and_the_readme_table_are_written_from_the_settings():
    """`.env.example` and the README's table of settings are what `python -m bot.settings_docs --write`
    writes from the settings model: a setting added, a default or a meaning changed shows here."""
    from bot.settings_docs import ENV_EXAMPLE, README, SECTIONS, env_example, readme_with_table

    shown = [name for names in SECTIONS.values() for name in names]
    assert sorted(shown) == sorted(Settings.model_fields)  # each setting in one section, once
    assert ENV_EXAMPLE.read_text(encoding="utf-8") == env_example(), "run python -m bot.settings_docs --write"
    readme = README.read_text(encoding="utf-8")
    assert readme_with_table(readme) == readme, "run python -m bot.settings_docs --write"
