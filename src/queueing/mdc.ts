import {allenCunneen, approxResponseQuantile} from './ggc.js'

/**
 * M/D/c (Poisson arrivals, constant service) mean wait. No simple closed form exists for c > 1, so
 * two approximations are returned (units: per second, seconds):
 *  - Allen-Cunneen with Ca² = 1, Cs² = 0:  Wq ≈ ½·Wq(M/M/c)   (what queueing.md prescribes);
 *  - Cosmetatos (1975, INFOR 13:257) correction, more accurate for c > 1:
 *      Wq ≈ ½·Wq(M/M/c)·(1 + γ),  γ = (1−ρ)(c−1)(√(4+5c) − 2)/(16ρc).
 *    Whitt (1993) caps γ at 0.24; Cosmetatos overestimates for many servers in light traffic.
 * Both equal the exact Pollaczek-Khinchine M/D/1 result when c = 1. `wq` is Cosmetatos'.
 * Percentiles: queueing.md gives no M/D/c distribution; see approxResponseQuantile (ggc.ts).
 */
export function mdc(input: {arrivalRate: number; serviceTime: number; servers: number}) {
  const ac = allenCunneen({...input, arrivalScv: 1, serviceScv: 0})
  const c = input.servers
  const rho = ac.utilisation
  const gamma = rho > 0 ? ((1 - rho) * (c - 1) * (Math.sqrt(4 + 5 * c) - 2)) / (16 * rho * c) : 0
  const wqCosmetatos = ac.wq * (1 + gamma)
  return {
    utilisation: rho,
    probWaitMmc: ac.probWait,
    wqAllenCunneen: ac.wq,
    wqCosmetatos,
    wq: wqCosmetatos,
    w: wqCosmetatos + input.serviceTime,
    method: 'cosmetatos' as const,
    /** Approximate response-time p-quantile (see ggc.ts: exponential conditional wait + constant service). */
    responseQuantile: (p: number) => approxResponseQuantile({probWait: ac.probWait, wq: wqCosmetatos}, input.serviceTime, p),
  }
}
