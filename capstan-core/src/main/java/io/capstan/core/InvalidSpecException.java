package io.capstan.core;

import java.util.List;
import java.util.stream.Collectors;

/** The input is wrong; every problem found is listed, each naming its field. */
public class InvalidSpecException extends CapstanException {
    private final List<FieldError> errors;

    public InvalidSpecException(String message) {
        this(List.of(FieldError.of("", message)));
    }

    public InvalidSpecException(List<FieldError> errors) {
        super(render(errors));
        if (errors.isEmpty()) throw new IllegalArgumentException("an InvalidSpecException needs at least one error");
        this.errors = List.copyOf(errors);
    }

    public static InvalidSpecException of(String path, String message) {
        return new InvalidSpecException(List.of(FieldError.of(path, message)));
    }

    public List<FieldError> errors() {
        return errors;
    }

    private static String render(List<FieldError> errors) {
        return errors.stream().map(FieldError::toString).collect(Collectors.joining("; "));
    }
}
