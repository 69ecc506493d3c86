package org.backhippain.cds.cql;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.cqframework.cql.cql2elm.CqlCompilerException;
import org.cqframework.cql.cql2elm.CqlCompilerOptions;
import org.cqframework.cql.cql2elm.LibraryManager;
import org.cqframework.cql.cql2elm.ModelManager;
import org.cqframework.cql.cql2elm.StringLibrarySourceProvider;
import org.cqframework.cql.cql2elm.model.CompiledLibrary;
import org.cqframework.cql.cql2elm.quick.FhirLibrarySourceProvider;
import org.hl7.elm.r1.VersionedIdentifier;

/**
 * Translates every CQL library of the content once, with the cqframework translator, into a {@link
 * LibraryManager} whose cache then serves every evaluation of the process. The same step checks the
 * CQL at build time ({@link CqlCheck}), so what the build accepts is what runs.
 */
final class CqlCompilation {
  private final LibraryManager libraryManager;
  private final List<Problem> problems;

  private CqlCompilation(LibraryManager libraryManager, List<Problem> problems) {
    this.libraryManager = libraryManager;
    this.problems = List.copyOf(problems);
  }

  static CqlCompilation of(ContentPackage content) {
    ModelManager models = new ModelManager();
    LibraryManager libraries = new LibraryManager(models, CqlCompilerOptions.defaultOptions());
    libraries
        .getLibrarySourceLoader()
        .registerProvider(
            new StringLibrarySourceProvider(
                content.cql().values().stream().map(ContentPackage.CqlSource::text).toList()));
    libraries.getLibrarySourceLoader().registerProvider(new FhirLibrarySourceProvider());

    List<Problem> problems = new ArrayList<>();
    for (ContentPackage.CqlSource source : content.cql().values()) {
      List<CqlCompilerException> errors = new ArrayList<>();
      try {
        libraries.resolveLibrary(identifier(source), errors);
      } catch (RuntimeException e) {
        problems.add(new Problem(source.path(), 0, 0, e.getMessage()));
        continue;
      }
      for (CqlCompilerException error : errors) {
        Problem problem = Problem.of(source, error, content.cql());
        if (error.getSeverity() == CqlCompilerException.ErrorSeverity.Error
            && !problems.contains(problem)) {
          problems.add(problem);
        }
      }
    }
    return new CqlCompilation(libraries, problems);
  }

  static VersionedIdentifier identifier(ContentPackage.CqlSource source) {
    return new VersionedIdentifier().withId(source.name()).withVersion(source.version());
  }

  LibraryManager libraryManager() {
    return libraryManager;
  }

  CompiledLibrary compiled(ContentPackage.CqlSource source) {
    return libraryManager.resolveLibrary(identifier(source));
  }

  List<Problem> problems() {
    return problems;
  }

  /** A translator error located in a content file: {@code path:line:column: message}. */
  record Problem(String path, int line, int column, String message) {
    static Problem of(
        ContentPackage.CqlSource compiling,
        CqlCompilerException error,
        Map<String, ContentPackage.CqlSource> all) {
      var locator = error.getLocator();
      String path = compiling.path();
      if (locator != null && locator.getLibrary() != null) {
        var where = all.get(locator.getLibrary().getId());
        path = where != null ? where.path() : locator.getLibrary().getId();
      }
      return new Problem(
          path,
          locator == null ? 0 : locator.getStartLine(),
          locator == null ? 0 : locator.getStartChar(),
          error.getMessage());
    }

    @Override
    public String toString() {
      return path + ":" + line + ":" + column + ": " + message;
    }
  }
}
