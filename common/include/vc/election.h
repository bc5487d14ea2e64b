/*
 * election.h: Filecoin win count (Poisson sortition) in exact Q.256 fixed point, as Lotus
 * chain/types ElectionProof.ComputeWinCount (spec/miner-and-node-api.md A.3.3).
 *
 * ExpectedLeadersPerEpoch = 5, at most 15 wins. power and total are quality-adjusted powers.
 */
#ifndef VC_ELECTION_H
#define VC_ELECTION_H

#include <stddef.h>
#include <stdint.h>

#include "vc/bigint.h"

#define VC_ELECTION_BLOCKS_PER_EPOCH 5
#define VC_ELECTION_MAX_WIN_COUNT (3 * VC_ELECTION_BLOCKS_PER_EPOCH)

/* lambda = ((power * 5) << 256) / total, Q.256. -EDOM if total is 0, -EINVAL if negative. */
int vc_election_lambda(const vc_bigint_t *power, const vc_bigint_t *total, vc_bigint_t *ret);
/* e^-x in Q.256 for x in Q.256 (Lotus' rational approximation). */
int vc_election_expneg(const vc_bigint_t *x, vc_bigint_t *ret);
/* Win count for a VRF proof (hashed with blake2b-256). 0 when power is 0. */
int vc_election_win_count(const uint8_t *vrf_proof, size_t len, const vc_bigint_t *power,
                          const vc_bigint_t *total, int64_t *ret);

#endif
