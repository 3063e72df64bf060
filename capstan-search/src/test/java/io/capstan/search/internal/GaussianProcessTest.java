package io.capstan.search.internal;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class GaussianProcessTest {

    @Test
    void fittedProcessInterpolatesItsDataAndIsUnsureFarFromIt() {
        SplittableRandom random = new SplittableRandom(1);
        double[][] x = new double[25][];
        double[] y = new double[25];
        for (int i = 0; i < x.length; i++) {
            x[i] = new double[] {random.nextDouble() * 0.5, random.nextDouble()};
            y[i] = Math.sin(6 * x[i][0]) + 0.1 * x[i][1];
        }
        GaussianProcess process = GaussianProcess.fit(x, y, new SplittableRandom(2), 2);
        double[] prediction = new double[2];

        process.predict(x[3], prediction);
        assertThat(prediction[0]).isCloseTo(y[3], within(1e-2));
        double sdAtData = prediction[1];
        process.predict(new double[] {0.25, 0.5}, prediction);
        assertThat(prediction[0]).isCloseTo(Math.sin(1.5) + 0.05, within(0.05));
        process.predict(new double[] {1.0, 0.5}, prediction);
        assertThat(prediction[1]).isGreaterThan(10 * sdAtData);
    }

    @Test
    void lengthScaleOfAnIrrelevantInputGrowsBeyondARelevantOne() {
        SplittableRandom random = new SplittableRandom(5);
        double[][] x = new double[30][];
        double[] y = new double[30];
        for (int i = 0; i < x.length; i++) {
            x[i] = new double[] {random.nextDouble(), random.nextDouble()};
            y[i] = Math.cos(8 * x[i][0]);
        }

        double[] lengths = GaussianProcess.fit(x, y, new SplittableRandom(2), 2).hyperparameters().lengths();

        assertThat(lengths[1]).isGreaterThan(2 * lengths[0]);
    }

    @Test
    void choleskyInverseIsTheInverse() {
        double[][] a = {{4, 2, 0.5}, {2, 3, 0.2}, {0.5, 0.2, 2}};
        double[][] inverse = GaussianProcess.inverseFromCholesky(GaussianProcess.cholesky(a));
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                double sum = 0;
                for (int k = 0; k < 3; k++) sum += a[i][k] * inverse[k][j];
                assertThat(sum).isCloseTo(i == j ? 1 : 0, within(1e-12));
            }
        }
    }
}
