import gzip
import hashlib
from pathlib import Path

import pytest

from molgen.data.sources import (
    ChecksumError,
    DatasetNotFoundError,
    RemoteFile,
    cache_dir,
    file_sha256,
    resolve,
)

CONTENT = b"smiles,y\nCCO,1.0\nc1ccccc1,2.5\n"
SHA = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A data dir and a cache dir in tmp_path; no proxies so failed downloads fail fast."""
    data, cache = tmp_path / "data", tmp_path / "cache"
    monkeypatch.setenv("MOLGEN_DATA_DIR", str(data))
    monkeypatch.setenv("MOLGEN_CACHE_DIR", str(cache))
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    return data, cache


def _write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _remote(**kw) -> RemoteFile:
    args = dict(url="https://example.invalid/x.csv", sha256=SHA, filename="moleculenet/x.csv")
    return RemoteFile(**{**args, **kw})


def test_resolve_from_data_dir_with_correct_checksum(env):
    data, _ = env
    path = _write(data / "moleculenet" / "x.csv", CONTENT)
    assert resolve(_remote(), download=False) == path


def test_resolve_gzipped_mirror_checks_decompressed_bytes(env):
    data, _ = env
    path = _write(data / "moleculenet" / "x.csv.gz", gzip.compress(CONTENT))
    remote = _remote(filename="moleculenet/x.csv.gz", mirror_gzip=True)
    assert resolve(remote, download=False) == path
    assert remote.cache_name == "moleculenet/x.csv"
    assert file_sha256(path, decompress=True) == SHA != file_sha256(path)


def test_checksum_mismatch_in_data_dir_names_file_and_both_hashes(env):
    data, cache = env
    bad = CONTENT + b"C,3\n"
    _write(data / "moleculenet" / "x.csv", bad)
    _write(cache / "moleculenet" / "x.csv", CONTENT)  # a good cached copy must not hide the bad mirror
    with pytest.raises(ChecksumError) as err:
        resolve(_remote(), download=False)
    msg = str(err.value)
    assert "x.csv" in msg and SHA in msg and hashlib.sha256(bad).hexdigest() in msg


def test_not_found_without_download_mentions_data_dir_env(env, monkeypatch):
    monkeypatch.delenv("MOLGEN_DATA_DIR")
    with pytest.raises(DatasetNotFoundError) as err:
        resolve(_remote(), download=False)
    assert isinstance(err.value, FileNotFoundError)
    msg = str(err.value)
    assert "MOLGEN_DATA_DIR" in msg and "moleculenet/x.csv" in msg and "download=False" in msg


def test_cache_dir_hit(env, monkeypatch):
    _, cache = env
    monkeypatch.delenv("MOLGEN_DATA_DIR")
    path = _write(cache / "moleculenet" / "x.csv", CONTENT)
    assert resolve(_remote(), download=False) == path


def test_cache_used_when_data_dir_lacks_the_file(env):
    _, cache = env
    path = _write(cache / "moleculenet" / "x.csv", CONTENT)
    assert resolve(_remote(), download=False) == path


def test_corrupt_cache_without_download_is_a_checksum_error(env):
    _, cache = env
    _write(cache / "moleculenet" / "x.csv", b"garbage")
    with pytest.raises(ChecksumError, match=SHA):
        resolve(_remote(), download=False)


def test_failed_download_is_dataset_not_found(env):
    remote = _remote(url="http://127.0.0.1:9/x.csv")  # nothing listens on the discard port
    with pytest.raises(DatasetNotFoundError, match="127.0.0.1:9/x.csv"):
        resolve(remote, download=True)


def test_derived_file_cannot_be_downloaded(env):
    remote = _remote(url="", derived_from="a script")
    with pytest.raises(DatasetNotFoundError, match="derived from a script"):
        resolve(remote, download=True)


def test_cache_dir_env_and_default(monkeypatch, tmp_path):
    monkeypatch.setenv("MOLGEN_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("MOLGEN_CACHE_DIR")
    assert cache_dir() == Path.home() / ".cache" / "molgen"


@pytest.mark.parametrize(
    "kw",
    [
        dict(sha256="abc"),
        dict(sha256=SHA.upper()),
        dict(mirror_gzip=True),  # filename does not end in .gz
        dict(url=""),  # no url and no derived_from
    ],
)
def test_remote_file_validation(kw):
    with pytest.raises(ValueError):
        _remote(**kw)
