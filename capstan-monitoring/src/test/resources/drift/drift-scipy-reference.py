#!/usr/bin/env python3
"""Reference drift statistics from Debian's scipy (python3-scipy), on deterministic data the Java side regenerates.

Extends ../shared/references/drift-scipy-reference.py (same data and the same entries, which keep their names) with
the cases it lacks: KS exact with equal sizes, KS asymptotic (forced, and chosen by scipy for samples over 10000),
two-proportion Z, Jensen-Shannon with the natural log, normalised Wasserstein (Evidently's: divided by the
reference's population standard deviation, at least 0.001), PSI on numpy's Sturges bins, and the unbiased MMD^2
of Gretton et al. (2012) with a Gaussian kernel (numpy; scipy has none).

Regenerate: python3 drift-scipy-reference.py > drift-scipy-reference.json
"""
import json, math, numpy as np, scipy
from scipy import stats
from scipy.spatial.distance import jensenshannon, cdist

ref = np.array([((i * 7919) % 1000) / 100.0 for i in range(1000)])          # uniform-ish on [0,10)
cur = np.array([((i * 104729) % 1000) / 100.0 * 0.9 + 1.0 for i in range(800)])  # shifted/scaled
out = {"scipy": scipy.__version__, "numpy": np.__version__}
ks = stats.ks_2samp(ref, cur); out["ks_2samp"] = {"statistic": ks.statistic, "pvalue": ks.pvalue}
ks_exact = stats.ks_2samp(ref[:50], cur[:40], method="exact"); out["ks_2samp_exact_50_40"] = {"statistic": ks_exact.statistic, "pvalue": ks_exact.pvalue}
edges = np.linspace(0, 11, 11)          # 10 equal-width bins on [0,11]
p, _ = np.histogram(ref, edges); q, _ = np.histogram(cur, edges)
out["bins"] = {"edges": edges.tolist(), "ref_counts": p.tolist(), "cur_counts": q.tolist()}
eps = 1e-4
pp = np.clip(p / p.sum(), eps, None); qq = np.clip(q / q.sum(), eps, None)
out["psi_eps1e-4"] = float(np.sum((qq - pp) * np.log(qq / pp)))
out["kl_ref||cur_eps1e-4"] = float(stats.entropy(pp, qq))              # natural log
out["js_distance_base2"] = float(jensenshannon(p / p.sum(), q / q.sum(), base=2))
out["js_divergence_base2"] = out["js_distance_base2"] ** 2
exp = p / p.sum() * q.sum()
m = exp > 0
cs = stats.chisquare(q[m], exp[m]); out["chisquare_cur_vs_ref_expected"] = {"statistic": cs.statistic, "pvalue": cs.pvalue, "dof": int(m.sum() - 1)}
c2 = stats.chi2_contingency(np.vstack([p, q])[:, (p + q) > 0]); out["chi2_contingency"] = {"statistic": c2[0], "pvalue": c2[1], "dof": int(c2[2])}
out["wasserstein"] = float(stats.wasserstein_distance(ref, cur))

# --- additions ---
def ks_case(a, b, method):
    r = stats.ks_2samp(a, b, method=method)
    return {"n1": len(a), "n2": len(b), "method": method, "statistic": float(r.statistic), "pvalue": float(r.pvalue)}

out["ks_2samp_exact_60_60"] = ks_case(ref[:60], cur[:60], "exact")              # equal sizes: scipy's square formula
out["ks_2samp_asymp_1000_800"] = ks_case(ref, cur, "asymp")                     # n = 444, n*d^2 >= 2.2: 2*smirnov
out["ks_2samp_asymp_100_150"] = ks_case(ref[:100], cur[:150], "asymp")          # n = 60 <= 140
out["ks_2samp_asymp_1000_800_near"] = ks_case(ref, ref[:800] + 0.05, "asymp")  # n*d^1.5 <= 1.4: Durbin matrix
big_ref = np.array([((i * 7919) % 12007) / 1200.7 for i in range(12007)])
big_cur = np.array([((i * 104729) % 11003) / 1100.3 * 0.995 + 0.12 for i in range(11003)])
out["ks_2samp_auto_12007_11003"] = ks_case(big_ref, big_cur, "auto")           # over 10000: scipy picks asymp
out["ks_2samp_auto_12007_11003"]["data"] = "big_ref[i] = ((i*7919) % 12007)/1200.7; big_cur[i] = ((i*104729) % 11003)/1100.3*0.995 + 0.12"

ref_bin = np.array([1 if ((i * 7919) % 1000) < 300 else 0 for i in range(1000)])
cur_bin = np.array([1 if ((i * 104729) % 1000) < 360 else 0 for i in range(800)])
n1, n2 = len(ref_bin), len(cur_bin); p1, p2 = ref_bin.mean(), cur_bin.mean()
P = (p1 * n1 + p2 * n2) / (n1 + n2)
z = (p1 - p2) / math.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))
out["two_proportion_z"] = {"data": "ref[i] = ((i*7919) % 1000) < 300 for i < 1000; cur[i] = ((i*104729) % 1000) < 360 for i < 800",
                           "statistic": z, "pvalue": float(2 * stats.norm.sf(abs(z)))}

out["js_distance_e"] = float(jensenshannon(p / p.sum(), q / q.sum()))
out["wasserstein_normalised"] = float(stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001))

sturges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
sp, _ = np.histogram(ref, sturges); sq, _ = np.histogram(cur, sturges)
spp = np.clip(sp / sp.sum(), eps, None); sqq = np.clip(sq / sq.sum(), eps, None)
out["sturges"] = {"edges": sturges.tolist(), "ref_counts": sp.tolist(), "cur_counts": sq.tolist(),
                  "psi_eps1e-4": float(np.sum((sqq - spp) * np.log(sqq / spp)))}

# MMD^2, unbiased (Gretton et al. 2012, eq. 3), Gaussian kernel exp(-|x-y|^2 / (2 sigma^2)), sigma = the median
# distance between distinct points of the pooled sample.
X = np.array([[((i * 7919) % 1000) / 100.0, ((i * 104729) % 997) / 99.7] for i in range(60)])
Y = np.array([[((i * 6007) % 1000) / 100.0 + 0.8, ((i * 3571) % 991) / 99.1] for i in range(50)])
Z = np.vstack([X, Y])
D = cdist(Z, Z)
sigma = float(np.median(D[np.triu_indices(len(Z), 1)]))
K = np.exp(-D ** 2 / (2 * sigma ** 2))
m_, n_ = len(X), len(Y)
kxx = K[:m_, :m_]; kyy = K[m_:, m_:]; kxy = K[:m_, m_:]
mmd2 = (kxx.sum() - np.trace(kxx)) / (m_ * (m_ - 1)) + (kyy.sum() - np.trace(kyy)) / (n_ * (n_ - 1)) - 2 * kxy.mean()
out["mmd2_unbiased"] = {"data": "X[i] = (((i*7919) % 1000)/100, ((i*104729) % 997)/99.7), i < 60; Y[i] = (((i*6007) % 1000)/100 + 0.8, ((i*3571) % 991)/99.1), i < 50",
                        "sigma": sigma, "statistic": float(mmd2)}
print(json.dumps(out, indent=1))
