package org.backhippain.cds.cql;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.cqframework.cql.cql2elm.CqlCompilerException;
import org.cqframework.cql.cql2elm.CqlCompilerOptions;
import org.cqframework.cql.cql2elm.LibraryBuilder;
import org.cqframework.cql.cql2elm.LibraryManager;
import org.cqframework.cql.cql2elm.ModelManager;
import org.cqframework.cql.cql2elm.StringLibrarySourceProvider;
import org.cqframework.cql.cql2elm.model.CompiledLibrary;
import org.cqframework.cql.cql2elm.quick.FhirLibrarySourceProvider;
import org.cqframework.cql.elm.serializing.ElmJsonLibraryReader;
import org.cqframework.cql.elm.serializing.ElmJsonLibraryWriter;
import org.hl7.elm.r1.Library;
import org.hl7.elm.r1.VersionedIdentifier;

/**
 * The content's CQL compiled once into a {@link LibraryManager} whose cache then serves every
 * evaluation of the process. At build time the cqframework translator translates the CQL ({@code
 * CqlCheck}) and the package stores the resulting ELM JSON beside each library's CQL; at start-up
 * that ELM is read back into the cache ({@link #of}), which takes a tenth of the time of
 * translating and yields the same libraries (checked by {@code ElmRoundTripTests}).
 */
final class CqlCompilation {
  /**
   * The translator's defaults plus signatures on every function reference, so that the engine does
   * not resolve overloads at run time (it otherwise does so on each call).
   */
  static CqlCompilerOptions options() {
    return CqlCompilerOptions.defaultOptions()
        .withSignatureLevel(LibraryBuilder.SignatureLevel.All);
  }

  private final LibraryManager libraryManager;
  private final List<Problem> problems;
  private final boolean precompiled;

  private CqlCompilation(
      LibraryManager libraryManager, List<Problem> problems, boolean precompiled) {
    this.libraryManager = libraryManager;
    this.problems = List.copyOf(problems);
    this.precompiled = precompiled;
  }

  /** True when read from precompiled ELM, false when translated from CQL. */
  boolean precompiled() {
    return precompiled;
  }

  /** The precompiled ELM when the content carries it for every library, else a translation. */
  static CqlCompilation of(ContentPackage content) {
    boolean precompiled =
        content.elm().containsKey(ContentPackage.FHIR_HELPERS)
            && content.cql().keySet().stream().allMatch(content.elm()::containsKey);
    return precompiled ? fromElm(content) : translate(content);
  }

  /** Reads the content's ELM JSON into the library cache; no translation. */
  static CqlCompilation fromElm(ContentPackage content) {
    LibraryManager libraries = new LibraryManager(new ModelManager(), options());
    ElmJsonLibraryReader reader = new ElmJsonLibraryReader();
    for (var elm : content.elm().entrySet()) {
      Library library = reader.read(elm.getValue());
      CompiledLibrary compiled = new CompiledLibrary();
      compiled.setIdentifier(library.getIdentifier());
      compiled.setLibrary(library);
      libraries.getCompiledLibraries().put(library.getIdentifier(), compiled);
    }
    return new CqlCompilation(libraries, List.of(), true);
  }

  /** The ELM JSON of a compiled library, as the package stores it. */
  static String elmJson(CompiledLibrary compiled) {
    return new ElmJsonLibraryWriter().writeAsString(compiled.getLibrary());
  }

  /** Translates the content's CQL with the cqframework translator. */
  static CqlCompilation translate(ContentPackage content) {
    ModelManager models = new ModelManager();
    LibraryManager libraries = new LibraryManager(models, options());
    libraries
        .getLibrarySourceLoader()
        .registerProvider(
            new StringLibrarySourceProvider(
                content.cql().values().stream().map(ContentPackage.CqlSource::text).toList()));
    libraries.getLibrarySourceLoader().registerProvider(new FhirLibrarySourceProvider());

    List<Problem> problems = new ArrayList<>();
    for (ContentPackage.CqlSource source : content.cql().values()) {
      compile(libraries, source, content.cql(), problems);
    }
    return new CqlCompilation(libraries, problems, false);
  }

  /**
   * Translates one more library, made at build time ({@code CardText}), into this translation's
   * library cache; its includes resolve to the libraries already there.
   */
  CqlCompilation with(ContentPackage.CqlSource source) {
    libraryManager
        .getLibrarySourceLoader()
        .registerProvider(new StringLibrarySourceProvider(List.of(source.text())));
    List<Problem> all = new ArrayList<>(problems);
    compile(libraryManager, source, Map.of(source.name(), source), all);
    return new CqlCompilation(libraryManager, all, false);
  }

  private static void compile(
      LibraryManager libraries,
      ContentPackage.CqlSource source,
      Map<String, ContentPackage.CqlSource> all,
      List<Problem> problems) {
    List<CqlCompilerException> errors = new ArrayList<>();
    try {
      libraries.resolveLibrary(identifier(source), errors);
    } catch (RuntimeException e) {
      problems.add(new Problem(source.path(), 0, 0, e.getMessage()));
      return;
    }
    for (CqlCompilerException error : errors) {
      Problem problem = Problem.of(source, error, all);
      if (error.getSeverity() == CqlCompilerException.ErrorSeverity.Error
          && !problems.contains(problem)) {
        problems.add(problem);
      }
    }
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
