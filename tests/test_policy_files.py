"""Policy files cannot run code when loaded unless the user trusts them (``sd_env.agents.policy_files``).

Each crafted file below holds a pickle that, unpickled, creates a marker file: the tests check that loading
it without the opt-in refuses it in one line and creates nothing, and that with the opt-in the code does run
(so the crafted payload is live and the refusals are not vacuous)."""

from __future__ import annotations

import base64
import collections
import json
import os
import pickle
import zipfile
from pathlib import Path

import gymnasium
import numpy as np
import pytest

from sd_env.agents.learned import RLlibModulePolicy, SB3Policy, load_sb3_model
from sd_env.agents.policy_files import (
    TRUST_VARIABLE,
    UntrustedPolicyFileError,
    restricted_loads,
    sb3_custom_objects,
)
from sd_env.scenarios import make_params

PARAMS = make_params("bilateral", max_cycles=8)


class _Marker:
    """Unpickled, runs ``open(path, "w")``: a harmless stand-in for any code an attacker would run."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A genuine PPO checkpoint as ``sd-env train`` writes it (a few updates on the bilateral world)."""
    from stable_baselines3 import PPO

    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    model = PPO("MlpPolicy", SecurityDilemmaVecEnv(2, params=PARAMS, seed=0), n_steps=8, batch_size=16,
                device="cpu", seed=0)
    model.learn(32)
    path = tmp_path_factory.mktemp("policies") / "genuine.zip"
    model.save(path)
    return path


def _crafted(source: Path, target: Path, key: str, marker: Path) -> Path:
    """``source`` with the pickle of its ``data`` entry ``key`` replaced by one that creates ``marker``."""
    with zipfile.ZipFile(source) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(entries["data"])
    data[key] = {":type:": "<class 'function'>", ":serialized:": base64.b64encode(pickle.dumps(_Marker(marker))).decode()}
    entries["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return target


@pytest.mark.parametrize("key", ["lr_schedule", "observation_space", "policy_class", "ep_info_buffer"])
def test_a_crafted_sb3_zip_runs_no_code_without_the_opt_in(checkpoint, tmp_path, key):
    marker = tmp_path / "ran"
    crafted = _crafted(checkpoint, tmp_path / "crafted.zip", key, marker)
    with pytest.raises(UntrustedPolicyFileError) as refused:
        SB3Policy.load(crafted, PARAMS)
    message = str(refused.value)
    assert "\n" not in message and key in message and "--trust-policy-files" in message and str(crafted) in message
    assert not marker.exists()


def test_with_the_opt_in_the_crafted_zip_is_loaded_by_stable_baselines3_and_its_code_runs(checkpoint, tmp_path,
                                                                                          monkeypatch, capsys):
    marker = tmp_path / "ran"
    crafted = _crafted(checkpoint, tmp_path / "crafted.zip", "ep_info_buffer", marker)
    monkeypatch.setenv(TRUST_VARIABLE, "1")
    load_sb3_model(crafted)
    assert marker.exists()


def test_the_command_line_refuses_a_crafted_zip_in_one_line_and_runs_it_only_when_trusted(checkpoint, tmp_path, cli):
    marker = tmp_path / "ran"
    crafted = _crafted(checkpoint, tmp_path / "crafted.zip", "lr_schedule", marker)
    code, out, err = cli(["evaluate", "--policy", str(crafted), "--episodes", "1", "--set", "max_cycles=8"])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--trust-policy-files" in err
    assert not marker.exists()
    code, out, err = cli(["evaluate", "--policy", str(crafted), "--episodes", "1", "--set", "max_cycles=8",
                          "--trust-policy-files"])
    assert code == 0 and marker.exists()
    assert err.count("--trust-policy-files") == 1  # said once, in one line, what it trusts
    assert os.environ.get(TRUST_VARIABLE) == "1"  # handed on to the processes a command starts


def test_a_genuine_checkpoint_loads_without_the_opt_in_and_acts_as_stable_baselines3_loads_it(checkpoint, monkeypatch):
    safe = SB3Policy.load(checkpoint, PARAMS, deterministic=True)
    monkeypatch.setenv(TRUST_VARIABLE, "1")
    trusted = SB3Policy.load(checkpoint, PARAMS, deterministic=True)
    observations = np.random.default_rng(0).uniform(0, 2, (16, safe.model.observation_space.shape[0])).astype(np.float32)
    np.testing.assert_array_equal(safe.act(observations), trusted.act(observations))
    assert safe.model.observation_space == trusted.model.observation_space
    assert safe.model.action_space == trusted.model.action_space
    assert safe.model.num_timesteps == trusted.model.num_timesteps == 32
    assert safe.model.lr_schedule(1.0) == trusted.model.lr_schedule(1.0)


def test_every_pickled_entry_of_a_genuine_checkpoint_reads_as_plain_data(checkpoint):
    objects = sb3_custom_objects(checkpoint)
    with zipfile.ZipFile(checkpoint) as archive:
        data = json.loads(archive.read("data"))
    assert set(objects) == {key for key, item in data.items() if isinstance(item, dict) and ":serialized:" in item}
    assert isinstance(objects["observation_space"], gymnasium.spaces.Box)
    assert isinstance(objects["action_space"], gymnasium.spaces.MultiDiscrete)
    assert isinstance(objects["ep_info_buffer"], collections.deque)


def test_the_restricted_unpickler_builds_data_and_refuses_every_callable():
    data = {"array": np.arange(6.0).reshape(2, 3), "space": gymnasium.spaces.MultiDiscrete([3, 4]),
            "deque": collections.deque([{"r": 1.0}], maxlen=5), "scalar": np.float32(2.5)}
    rebuilt = restricted_loads(pickle.dumps(data))
    np.testing.assert_array_equal(rebuilt["array"], data["array"])
    assert rebuilt["space"] == data["space"] and rebuilt["deque"] == data["deque"] and rebuilt["scalar"] == 2.5
    for payload in (pickle.dumps(_Marker(Path("never"))), pickle.dumps(os.getcwd), pickle.dumps(print),
                    b"cos\nsystem\n(S'true'\ntR."):
        with pytest.raises(pickle.UnpicklingError):
            restricted_loads(payload)
    assert not Path("never").exists()


def test_a_damaged_or_foreign_file_is_one_line_naming_it(tmp_path, checkpoint):
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(checkpoint.read_bytes()[:200])
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("readme.txt", "not a checkpoint")
    for path in (truncated, foreign):
        with pytest.raises(ValueError, match="not a readable stable-baselines3 checkpoint") as refused:
            sb3_custom_objects(path)
        assert str(path) in str(refused.value) and "\n" not in str(refused.value)


def test_an_rllib_checkpoint_is_refused_before_anything_in_it_is_read(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    module = tmp_path / "rllib" / "learner_group" / "learner" / "rl_module" / "shared"
    module.mkdir(parents=True)
    (module / "class_and_ctor_args.pkl").write_bytes(pickle.dumps(_Marker(marker)))
    with pytest.raises(UntrustedPolicyFileError, match="RLlib checkpoint.*--trust-policy-files"):
        RLlibModulePolicy.load(tmp_path / "rllib", PARAMS)
    assert not marker.exists()


def _rllib_checkpoint(folder: Path, arguments: object, state: object) -> Path:
    module = folder / "rllib" / "learner_group" / "learner" / "rl_module" / "shared"
    module.mkdir(parents=True)
    (module / "class_and_ctor_args.pkl").write_bytes(arguments if isinstance(arguments, bytes) else pickle.dumps(arguments))
    (module / "module_state.pkl").write_bytes(pickle.dumps(state))
    return folder / "rllib"


def test_an_rllib_module_whose_weights_or_model_config_would_run_code_is_refused(tmp_path):
    """The constructor's arguments are read with RLlib's classes as inert references, the weights as arrays:
    a call pickled into either is refused, and nothing runs."""
    from ray.rllib.algorithms.ppo.ppo_catalog import PPOCatalog
    from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import DefaultPPOTorchRLModule

    marker = tmp_path / "ran"
    space = gymnasium.spaces.Box(0.0, 1.0, (4,))
    kwargs = {"observation_space": space, "action_space": gymnasium.spaces.MultiDiscrete([3, 2]),
              "model_config": {"fcnet_hiddens": [8]}, "catalog_class": PPOCatalog}
    arguments = {"class": DefaultPPOTorchRLModule, "ctor_args_and_kwargs": ((), kwargs)}
    for number, (args, state) in enumerate([
        (arguments, {"w": _Marker(marker)}),  # the weights pickle a call
        ({**arguments, "ctor_args_and_kwargs": ((), {**kwargs, "model_config": {"hook": _Marker(marker)}})},
         {"w": np.zeros(2)}),  # the model config does
    ]):
        with pytest.raises(UntrustedPolicyFileError, match="holds Python code to run when loaded"):
            RLlibModulePolicy.load(_rllib_checkpoint(tmp_path / str(number), args, state), PARAMS)
    assert not marker.exists()
    # The same arguments and plain weights read as data: the classes come back, resolved, and nothing ran.
    from sd_env.agents.policy_files import read_rllib_module

    folder = _rllib_checkpoint(tmp_path / "plain", arguments, {"w": np.zeros(2)})
    module_class, read_kwargs, state = read_rllib_module(folder / "learner_group" / "learner" / "rl_module" / "shared")
    assert module_class is DefaultPPOTorchRLModule and read_kwargs["catalog_class"] is PPOCatalog
    assert read_kwargs["model_config"] == {"fcnet_hiddens": [8]} and list(state) == ["w"]


# ---------------------------------------------------------------------------------------------------------
# BenchMARL checkpoints: read weights-only, the actor rebuilt from its weights; config.pkl never read

def _benchmarl_checkpoint(run: Path, weights: dict, frames: int = 400, experiment: str = "ippo_x") -> Path:
    """A checkpoint laid out as BenchMARL saves one under a run's ``benchmarl`` folder, with ``weights`` as
    the actor's MLP, and a ``config.pkl`` that creates a marker if anything unpickles it."""
    import torch

    from sd_env.agents.policy_files import BENCHMARL_ACTOR_PREFIX

    folder = run / "benchmarl" / experiment
    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    (folder / "config.pkl").write_bytes(pickle.dumps(_Marker(run / "config-ran")))
    path = folder / "checkpoints" / f"checkpoint_{frames}.pt"
    torch.save({"state": {"total_frames": frames},
                "loss_agents": {BENCHMARL_ACTOR_PREFIX + key: value for key, value in weights.items()}}, path)
    return path


def _mlp_weights(shared: bool, inputs: int = 13, outputs: int = 12, agents: int = 2, seed: int = 0) -> dict:
    import torch

    generator = torch.Generator().manual_seed(seed)
    lead = () if shared else (agents,)
    sizes = [(8, inputs), (8, 8), (outputs, 8)]
    return {key: torch.randn(*lead, *(size if kind == "weight" else size[:1]), generator=generator)
            for layer, size in zip((0, 2, 4), sizes) for kind, key in (("weight", f"{layer}.weight"),
                                                                     ("bias", f"{layer}.bias"))}


@pytest.fixture
def needs_torchrl():
    pytest.importorskip("torchrl", reason="BenchMARL is optional: pip install 'sd-env[benchmarl]'")


@pytest.mark.parametrize("shared", [True, False])
def test_a_benchmarl_checkpoint_loads_from_its_weights_alone_and_acts_as_its_mlp(tmp_path, needs_torchrl, shared):
    """No opt-in, config.pkl never unpickled, and the policy is the MLP of the saved weights: tanh between
    linear layers, the most likely flattened action unravelled into (system, burden, attack)."""
    import torch

    from sd_env.agents.learned import BenchMARLPolicy
    from sd_env.spaces import action_space, observation_space

    inputs, nvec = observation_space(PARAMS).shape[0], action_space(PARAMS).nvec
    weights = _mlp_weights(shared, inputs, int(np.prod(nvec)))
    _benchmarl_checkpoint(tmp_path, weights)
    observations = np.random.default_rng(0).normal(size=(9, inputs)).astype(np.float32)
    for seat in range(PARAMS.n_states):
        policy = BenchMARLPolicy.load(tmp_path / "benchmarl", PARAMS, seat)
        assert policy.seat == (None if shared else seat)
        layer = {key: value if shared else value[seat] for key, value in weights.items()}
        hidden = torch.tanh(torch.as_tensor(observations) @ layer["0.weight"].T + layer["0.bias"])
        hidden = torch.tanh(hidden @ layer["2.weight"].T + layer["2.bias"])
        best = (hidden @ layer["4.weight"].T + layer["4.bias"]).argmax(-1).numpy()
        expected = np.stack(np.unravel_index(best, tuple(nvec)), axis=1)
        np.testing.assert_array_equal(policy.act(observations), expected)
    assert not (tmp_path / "config-ran").exists()


def test_a_benchmarl_checkpoint_that_pickles_code_is_refused_and_nothing_runs(tmp_path, needs_torchrl, monkeypatch):
    import torch

    from sd_env.agents.learned import BenchMARLPolicy

    folder = tmp_path / "benchmarl" / "x" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save({"loss_agents": _Marker(tmp_path / "ran")}, folder / "checkpoint_400.pt")
    for trust in ("", "1"):  # weights-only either way: BenchMARL restores with torch's weights-only default too
        monkeypatch.setenv(TRUST_VARIABLE, trust)
        with pytest.raises(UntrustedPolicyFileError, match="other than tensors") as refused:
            BenchMARLPolicy.load(tmp_path / "benchmarl", PARAMS)
        assert "checkpoint_400.pt" in str(refused.value) and "\n" not in str(refused.value)
    assert not (tmp_path / "ran").exists()


def test_a_damaged_newest_benchmarl_checkpoint_falls_back_and_a_foreign_one_is_named(tmp_path, needs_torchrl, capsys):
    from sd_env.agents.learned import BenchMARLPolicy
    from sd_env.errors import PolicyError
    from sd_env.spaces import action_space, observation_space

    inputs, outputs = observation_space(PARAMS).shape[0], int(np.prod(action_space(PARAMS).nvec))
    good = _benchmarl_checkpoint(tmp_path, _mlp_weights(True, inputs, outputs), frames=400)
    newest = _benchmarl_checkpoint(tmp_path, _mlp_weights(True, inputs, outputs), frames=800)
    newest.write_bytes(newest.read_bytes()[:100])  # a kill while BenchMARL was writing it
    assert BenchMARLPolicy.latest_checkpoint(tmp_path / "benchmarl") == good
    assert "checkpoint_800.pt" in capsys.readouterr().err
    good.write_bytes(b"")
    with pytest.raises(PolicyError, match="damaged.*every earlier one") as refused:
        BenchMARLPolicy.load(tmp_path / "benchmarl", PARAMS)
    assert "\n" not in str(refused.value)
    # Weights of another world (another observation length) are named, not played.
    other = tmp_path / "other"
    _benchmarl_checkpoint(other, _mlp_weights(False, inputs + 3, outputs))
    with pytest.raises(PolicyError, match="was trained on observations") as refused:
        BenchMARLPolicy.load(other / "benchmarl", PARAMS)
    assert "\n" not in str(refused.value)


def test_a_benchmarl_checkpoint_without_an_actor_mlp_needs_the_opt_in_to_unpickle_its_config(tmp_path, needs_torchrl,
                                                                                             monkeypatch):
    """Only a checkpoint sd-env cannot rebuild falls back to BenchMARL's reload, which unpickles config.pkl:
    refused without the opt-in (nothing runs), run with it (the payload is live)."""
    import torch

    from sd_env.agents.learned import BenchMARLPolicy

    _benchmarl_checkpoint(tmp_path, {"mlp.0.weight": torch.zeros(1)})  # no tensors under the actor's prefix
    with pytest.raises(UntrustedPolicyFileError, match="no actor MLP.*--trust-policy-files"):
        BenchMARLPolicy.load(tmp_path / "benchmarl", PARAMS)
    assert not (tmp_path / "config-ran").exists()
    monkeypatch.setenv(TRUST_VARIABLE, "1")
    with pytest.raises(Exception):  # the unpickled "config" is the marker's file, not a task
        BenchMARLPolicy.load(tmp_path / "benchmarl", PARAMS)
    assert (tmp_path / "config-ran").exists()
