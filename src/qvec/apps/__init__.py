"""Applications built on qvec: the hybrid image classifier (``qvec.apps.classify``), the CV quantum GAN
(``qvec.apps.qgan``), the run folder both train into (``qvec.apps.runlog``), and bundled data."""
