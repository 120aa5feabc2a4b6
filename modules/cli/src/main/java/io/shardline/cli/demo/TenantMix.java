package io.shardline.cli.demo;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The auth service's tenants and their share of the traffic: Zipf-skewed, the biggest first, so the shard holding the
 * biggest tenants fills first.
 */
final class TenantMix {

    /** The tenants, the biggest first; their first letters spread them over the tenant ranges. */
    static final List<String> TENANTS = List.of("acme", "bluebird", "cobalt", "umbrella", "globex", "initech", "hooli", "stark",
        "wayne", "zenith", "kappa", "nimbus", "orbit", "pioneer", "quartz", "raven", "tyrell", "vertex", "yonder", "delta");

    private final double[] weights = zipf(TENANTS.size(), 1.3);

    /** A tenant drawn by its weight. */
    String next(SplittableRandom random) {
        double r = random.nextDouble();
        for (int i = 0; i < weights.length; i++) {
            r -= weights[i];
            if (r <= 0) {
                return TENANTS.get(i);
            }
        }
        return TENANTS.get(TENANTS.size() - 1);
    }

    /** Normalized Zipf weights of {@code n} ranks with exponent {@code s}. */
    static double[] zipf(int n, double s) {
        double[] weights = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            weights[i] = 1 / Math.pow(i + 1, s);
            sum += weights[i];
        }
        for (int i = 0; i < n; i++) {
            weights[i] /= sum;
        }
        return weights;
    }
}
