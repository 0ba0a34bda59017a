"""The house rules the code keeps: defaults written once, the library free of the application's
setting names, both storage backends keeping the storage contract, one schema, small modules."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from bot.settings import Settings, in_setting_terms
from index import LibraryConfig
from index.database import Database
from index.postgres import PostgresDatabase
from index.schema import POSTGRES_SCHEMA, SQLITE_ADDED_COLUMNS, SQLITE_SCHEMA
from index.store import Store, open_store

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
    message = "a headline of 900 characters; kept the first 299 (max_title_chars is 300)"
    assert in_setting_terms(message).endswith("(NEWSBOT_MAX_TITLE_CHARS is 300)")
    assert in_setting_terms("name the host in allowed_hosts") == "name the host in NEWSBOT_FETCH_ALLOWED_HOSTS"
    assert in_setting_terms("NEWSBOT_FETCH_ALLOWED_HOSTS stays") == "NEWSBOT_FETCH_ALLOWED_HOSTS stays"


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
    store, vectors = open_store(LibraryConfig(data_dir=tmp_path))
    assert isinstance(store, Database) and isinstance(store, Store) and vectors.db is store
    store, vectors = open_store(LibraryConfig(data_dir=tmp_path, database_url="postgresql://nobody@127.0.0.1:9/x"))
    assert isinstance(store, PostgresDatabase) and vectors.db is store


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
        for folder in ("index", "bot")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MOST_LINES
    }
    assert long == {}
