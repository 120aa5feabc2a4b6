package io.shardline.cli.config;

import java.time.Duration;

import io.shardline.core.time.Durations;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** A duration option as people write it, read by {@link Durations}: {@code 500ms}, {@code 90s}, {@code 5m}, {@code 1h}, {@code 1d} or {@code PT5M}. */
public final class DurationConverter implements ITypeConverter<Duration> {

    @Override
    public Duration convert(String value) {
        try {
            return Durations.parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
