"""densMAP (Narayan, Berger & Cho 2021): UMAP that also keeps each point's local density, so a
class spread out in the embedding looks spread out in the layout, a tight one tight.

umap-learn's ``UMAP(densmap=True)`` on the shared k-NN graph, as :class:`~embeddings.methods.umap.UMAP`:
its density term needs the neighbours' distances, which ``precomputed_knn`` carries.  It costs
about a UMAP again (and umap-learn gives it 200 more epochs), so the default run leaves it out:
``--methods pca,tsne,umap,densmap`` computes it.
"""
from __future__ import annotations

from .base import Bound
from .registry import Method, Param
from .umap import DEFAULT_UMAP_MIN_DIST, DEFAULT_UMAP_NEIGHBORS, UMAP


class DensMAP(UMAP):
    """densMAP (Narayan, Berger & Cho 2021, Nature Biotechnology 39; umap-learn ``densmap=True``).

    Parameters
    ----------
    n_neighbors, min_dist, n_epochs :
        As :class:`~embeddings.methods.umap.UMAP` (``n_epochs`` None: umap-learn's UMAP epochs + 200).
    dens_lambda : float, default 2.0
        Weight of the density-keeping term against UMAP's (0: plain UMAP); umap-learn's default.
    dens_frac : float, default 0.3
        Fraction of the epochs, the last ones, that include the density term.
    dens_var_shift : float, default 0.1
        Added to the local radii's variance, for stability.
    """

    method = "densmap"
    title = "densMAP"
    _parameter_constraints = {**UMAP._parameter_constraints, "dens_lambda": Bound(lo=0),
                              "dens_frac": Bound(lo=0, hi=1), "dens_var_shift": Bound(lo=0)}

    def __init__(self, *, n_components: int = 2, n_neighbors: int = DEFAULT_UMAP_NEIGHBORS,
                 min_dist: float = DEFAULT_UMAP_MIN_DIST, n_epochs: int | None = None,
                 dens_lambda: float = 2.0, dens_frac: float = 0.3, dens_var_shift: float = 0.1,
                 random_state: int = 0):
        super().__init__(n_components=n_components, n_neighbors=n_neighbors, min_dist=min_dist,
                         n_epochs=n_epochs, random_state=random_state)
        self.dens_lambda = dens_lambda
        self.dens_frac = dens_frac
        self.dens_var_shift = dens_var_shift

    def epochs(self, n: int) -> int:
        return self.n_epochs if self.n_epochs is not None else super().epochs(n) + 200

    def _umap_kwargs(self) -> dict:
        return {**super()._umap_kwargs(), "densmap": True, "dens_lambda": self.dens_lambda,
                "dens_frac": self.dens_frac, "dens_var_shift": self.dens_var_shift}


METHOD = Method(
    name="densmap", title="densMAP", estimator=DensMAP, order=40, default=False, seconds=30,
    about="UMAP that keeps local density (Narayan, Berger & Cho 2021): a class spread out in the "
          "embedding looks spread out here",
    params=(Param("densmap_neighbors", "n_neighbors", "densMAP n_neighbors"),
            Param("densmap_min_dist", "min_dist", "densMAP min_dist"),
            Param("densmap_lambda", "dens_lambda", "densMAP dens_lambda: how strongly local density is kept "
                                                   "(0: plain UMAP)")))
