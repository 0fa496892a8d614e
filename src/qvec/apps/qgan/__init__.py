"""The CV quantum GAN behind ``qvec train qgan``: a photonic generator, an MLP critic, WGAN-GP training."""
