package org.backhippain.cds.cql;

import com.samskivert.mustache.DefaultCollector;
import com.samskivert.mustache.Mustache;
import com.samskivert.mustache.MustacheException;
import com.samskivert.mustache.Template;
import java.io.IOException;
import java.io.StringReader;
import java.io.Writer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.cqframework.cql.cql2elm.tracking.Trackable;
import org.hl7.cql.model.ChoiceType;
import org.hl7.cql.model.DataType;
import org.hl7.cql.model.ListType;
import org.hl7.cql.model.SimpleType;
import org.hl7.cql.model.TupleType;
import org.hl7.cql.model.TupleTypeElement;
import org.hl7.elm.r1.ExpressionDef;
import org.hl7.fhir.r4.model.PlanDefinition.PlanDefinitionActionComponent;

/**
 * The card text templates of the content: a rule's PlanDefinition action titles and descriptions
 * (nested actions' too: suggestion labels and action descriptions), the shared partials {@code
 * cards/<name>.mustache} and the Why section {@code cards/why.mustache}. They are compiled
 * strictly: a variable or section the card values do not have is an error, never an empty string (a
 * value that is present but null prints as ""). At build time {@link #problems} renders every
 * rule's templates once against the result types of its {@code Card} / {@code Card Details}
 * defines, entering every section and every inverted section, so a name the CQL does not give fails
 * the build.
 */
public final class CardTemplates {
  /** The Why section every card ends with. */
  public static final String WHY = "cards/why.mustache";

  /** A card value Java adds to the CQL's: the short labels of the rule's citations (strings). */
  public static final String SOURCES = "sources";

  private static final ListType TEXTS = new ListType(new SimpleType("System.String", null, null));

  private CardTemplates() {}

  /** The strict compiler; {@code {{> name}}} reads {@code cards/name.mustache} from the content. */
  public static Mustache.Compiler compiler(ContentPackage content) {
    return Mustache.compiler()
        .escapeHTML(false)
        .nullValue("")
        .strictSections(true)
        .withLoader(
            name ->
                new StringReader(
                    content
                        .file("cards/" + name + ".mustache")
                        .orElseThrow(() -> new IllegalStateException("no card partial " + name))));
  }

  /**
   * The values a rule's card text is filled from: its {@code Card} / {@code Card Details} values
   * and the short labels of its citations ({@link #SOURCES}; the full references are on the rule's
   * page).
   */
  public static Map<String, Object> values(RuleResult result) {
    Map<String, Object> values = new java.util.HashMap<>(result.card());
    values.put(SOURCES, citationLabels(result.rule().planDefinition()));
    return values;
  }

  /** The short labels of a rule's citations, in order. */
  static List<String> citationLabels(org.hl7.fhir.r4.model.PlanDefinition plan) {
    return plan.getRelatedArtifact().stream()
        .filter(
            a -> a.getType() == org.hl7.fhir.r4.model.RelatedArtifact.RelatedArtifactType.CITATION)
        .map(a -> a.hasLabel() ? a.getLabel() : a.getCitation())
        .toList();
  }

  /** Every text template of a rule's action tree (titles and descriptions), in tree order. */
  public static List<String> texts(PlanDefinitionActionComponent action) {
    List<String> texts = new ArrayList<>();
    for (String text : List.of(action.getTitle(), action.getDescription())) {
      if (text != null) {
        texts.add(text);
      }
    }
    action.getAction().forEach(child -> texts.addAll(texts(child)));
    return texts;
  }

  /**
   * Every template variable or section that a rule's card values lack; empty when all are there.
   * Needs the translator's result types (a translation, not precompiled ELM).
   */
  static List<String> problems(
      ContentPackage content, CqlCompilation compilation, RuleCatalog catalog) {
    List<String> problems = new ArrayList<>();
    Mustache.Compiler probing = compiler(content).withCollector(new ProbeCollector());
    String why = content.file(WHY).orElse(null);
    if (why == null) {
      return List.of(WHY + " is not in content");
    }
    for (RuleDefinition rule : catalog.rules()) {
      ContentPackage.CqlSource source = content.cql().get(rule.libraryName());
      if (source == null) {
        continue; // named by the rule contract
      }
      Map<String, DataType> values = new LinkedHashMap<>();
      for (ExpressionDef def : compilation.compiled(source).getLibrary().getStatements().getDef()) {
        if (def.getName().equals(RuleCatalog.CARD) || def.getName().equals(RuleCatalog.DETAILS)) {
          values.putAll(elements(Trackable.INSTANCE.getResultType(def)));
        }
      }
      values.put(SOURCES, TEXTS);
      Scope root = new Scope(values);
      List<String> texts = new ArrayList<>(texts(rule.action()));
      texts.add(why);
      for (String text : texts) {
        String where =
            rule.planDefinition().getUrl()
                + ": card text "
                + (text.equals(why) ? WHY : "\"" + abbreviate(text) + "\"")
                + ": ";
        try {
          probing.compile(text).execute(root);
        } catch (MustacheException e) {
          if (e.getCause() != null) { // a partial that cannot be loaded
            problems.add(where + e.getMessage() + " (" + e.getCause().getMessage() + ")");
            continue;
          }
          problems.add(
              where
                  + e.getMessage()
                  + " among the \""
                  + RuleCatalog.CARD
                  + "\" / \""
                  + RuleCatalog.DETAILS
                  + "\" values of "
                  + source.path());
        } catch (RuntimeException e) {
          problems.add(where + e.getMessage());
        }
      }
    }
    return problems;
  }

  private static String abbreviate(String text) {
    String line = text.replaceAll("\\s+", " ");
    return line.length() <= 60 ? line : line.substring(0, 57) + "...";
  }

  /** The named elements of a tuple type (of each tuple of a choice); none for other types. */
  static Map<String, DataType> elements(DataType type) {
    Map<String, DataType> out = new LinkedHashMap<>();
    if (type instanceof TupleType tuple) {
      for (TupleTypeElement element : tuple.getElements()) {
        out.put(element.getName(), element.getType());
      }
    } else if (type instanceof ChoiceType choice) {
      choice.getTypes().forEach(t -> out.putAll(elements(t)));
    }
    return out;
  }

  /** A template context standing for a tuple: it has exactly the tuple's element names. */
  private record Scope(Map<String, DataType> elements) {}

  /**
   * A value of a CQL type as a section sees it: a list or tuple section is entered once with its
   * element (tuple) as the context, any other section once in place; an inverted section is always
   * entered. Printed as a variable, it is a placeholder.
   */
  private record Probe(DataType type) implements Mustache.InvertibleLambda {
    @Override
    public void execute(Template.Fragment fragment, Writer out) throws IOException {
      DataType inner = type instanceof ListType list ? list.getElementType() : type;
      Map<String, DataType> elements = elements(inner);
      if (!elements.isEmpty()) {
        fragment.execute(new Scope(elements), out);
      } else if (type instanceof ListType) {
        fragment.execute(new Probe(inner), out);
      } else {
        fragment.execute(out);
      }
    }

    @Override
    public void executeInverse(Template.Fragment fragment, Writer out) throws IOException {
      fragment.execute(out);
    }

    @Override
    public String toString() {
      return "…";
    }
  }

  /** Names resolve on a {@link Scope} only; a {@link Probe} (a plain value) has no names. */
  private static final class ProbeCollector extends DefaultCollector {
    @Override
    public Mustache.VariableFetcher createFetcher(Object context, String name) {
      if (context instanceof Scope) {
        return (scope, key) -> {
          Map<String, DataType> elements = ((Scope) scope).elements();
          return elements.containsKey(key)
              ? new Probe(elements.get(key))
              : Template.NO_FETCHER_FOUND;
        };
      }
      if (context instanceof Probe) {
        return (probe, key) -> Template.NO_FETCHER_FOUND;
      }
      return super.createFetcher(context, name);
    }
  }
}
