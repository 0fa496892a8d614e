"""The truncation check's norms against FockState.norm (the probabilities summed), for kets and density matrices."""

import torch

from qvec.photonic.prepare import to_density_matrix
from qvec.photonic.state import FockState
from qvec.photonic.truncation import _norms


def test_norms_equal_the_states_norm_and_record_no_graph():
    generator = torch.Generator().manual_seed(0)
    ket = torch.complex(torch.randn(4, 3, 3, generator=generator, dtype=torch.float64),
                        torch.randn(4, 3, 3, generator=generator, dtype=torch.float64)).requires_grad_(True)
    for tensor, pure in ((ket, True), (to_density_matrix(ket), False)):
        state = FockState(tensor, n_modes=2, cutoff=3, pure=pure)
        norms = _norms(state)  # numpy for a CPU ket, a tensor for a density matrix
        assert not isinstance(norms, torch.Tensor) or not norms.requires_grad
        torch.testing.assert_close(torch.as_tensor(norms), state.norm().detach(), atol=1e-12, rtol=1e-12)
