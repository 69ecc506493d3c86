package org.backhippain.cds.fhir;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import ca.uhn.fhir.parser.json.BaseJsonLikeValue;
import ca.uhn.fhir.util.FhirTerser;
import ca.uhn.fhir.util.IModelVisitor2;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IBase;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.DecimalType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.PositiveIntType;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.TimeType;
import org.hl7.fhir.r4.model.UnsignedIntType;

/**
 * The one edge step after HAPI parses EHR data (prefetch, FHIR server reads, draft orders): the
 * rules never see a value they cannot handle. HAPI reads leniently — an invalid primitive is kept
 * as its text with no value, a dateTime in a {@code date} element is kept with its time — so every
 * primitive is then checked against its element's type ({@link FhirTerser} walk, contained
 * resources included):
 *
 * <ul>
 *   <li>a value HAPI could not read (a date {@code 2024-13-45}, a boolean {@code "yes"}, a code
 *       outside its required value set, an integer out of range);
 *   <li>{@code date} finer than a day, {@code instant} without seconds or a zone, any date outside
 *       the years 1–9999 that CQL can represent, a {@code time} that is not {@code hh:mm:ss};
 *   <li>a {@code decimal} outside CQL's range (28 digits before, at most 28 after the point), a
 *       {@code positiveInt} below 1, an {@code unsignedInt} below 0.
 * </ul>
 *
 * <p>An unusable element is removed — the data is then read as if it were absent, so the clinical
 * spec's absence rules apply (no {@code birthDate}: only the age branches skip) — and its path
 * ({@code Patient.birthDate}) is reported for the cards' Why. Elements HAPI dropped because their
 * JSON type was wrong (a string where a CodeableConcept belongs) are reported the same way. Usable
 * date-times are put into the service's time zone ({@link FactDates}) in the same walk.
 */
public final class UsableValues {
  /** FHIR {@code time}: {@code hh:mm:ss} with optional fraction. */
  private static final Pattern TIME =
      Pattern.compile("([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?");

  private static final BigDecimal DECIMAL_LIMIT = BigDecimal.TEN.pow(28);
  private static final int MAX_DECIMAL_SCALE = 28;

  private final FhirContext fhir;
  private final FhirTerser terser;
  private final FactDates dates;

  public UsableValues(FhirContext fhir, ZoneId zone) {
    this.fhir = fhir;
    this.terser = fhir.newTerser();
    this.dates = new FactDates(fhir, zone);
  }

  /**
   * HAPI's JSON parser as the edge uses it: unknown elements ignored, invalid primitive values kept
   * as text for {@link #check} to remove and report, elements of the wrong JSON type dropped and
   * their names added to {@code dropped}.
   */
  public IParser parser(Collection<String> dropped) {
    return fhir.newJsonParser().setParserErrorHandler(new Recording(dropped));
  }

  /**
   * Parses a JSON tree the caller already holds with {@link #parser}, without writing it out as
   * text and reading it again.
   */
  public IBaseResource parse(ObjectNode tree, Collection<String> dropped) {
    return FhirParsing.parse(parser(dropped), tree);
  }

  /** The error handler for HAPI's own reads (its client): invalid values kept for the check. */
  public static LenientErrorHandler lenient() {
    return new LenientErrorHandler(false).setErrorOnInvalidValue(false);
  }

  /**
   * Labels element names HAPI dropped while parsing {@code parsed}: {@code Type.name} when the
   * resource (or, for a Bundle, one of its entries' types) has such an element, else the name.
   */
  public Set<String> dropped(IBaseResource parsed, Collection<String> names) {
    Set<String> out = new TreeSet<>();
    if (names.isEmpty()) {
      return out;
    }
    Set<String> types = new TreeSet<>();
    types.add(parsed.fhirType());
    if (parsed instanceof Bundle bundle) {
      bundle.getEntry().stream()
          .filter(e -> e.getResource() != null)
          .forEach(e -> types.add(e.getResource().fhirType()));
    }
    for (String name : names) {
      String label = name;
      for (String type : types) {
        if (fhir.getResourceDefinition(type).getChildByName(name) != null) {
          label = type + "." + name;
          break;
        }
      }
      out.add(label);
    }
    return out;
  }

  /**
   * Removes the resource's unusable primitives (contained resources included) and puts its usable
   * date-times into the service's zone.
   *
   * @return the paths of the elements removed, e.g. {@code Patient.birthDate}; empty when none
   */
  public Set<String> check(Resource resource) {
    Set<String> paths = new TreeSet<>();
    if (resource == null) {
      return paths;
    }
    List<Removal> removals = new ArrayList<>();
    terser.visit(
        resource,
        new IModelVisitor2() {
          @Override
          public boolean acceptElement(
              IBase element,
              List<IBase> containing,
              List<BaseRuntimeChildDefinition> children,
              List<BaseRuntimeElementDefinition<?>> definitions) {
            if (element instanceof IPrimitiveType<?> primitive && containing.size() >= 2) {
              if (usable(primitive)) {
                if (element instanceof BaseDateTimeType dateTime) {
                  dates.normalize(dateTime);
                }
              } else {
                removals.add(
                    new Removal(
                        containing.get(containing.size() - 2),
                        children.get(children.size() - 1),
                        element));
                paths.add(path(resource, containing, children));
              }
              return false;
            }
            return true;
          }
        });
    for (int i = removals.size() - 1; i >= 0; i--) {
      removals.get(i).apply();
    }
    return paths;
  }

  static boolean usable(IPrimitiveType<?> primitive) {
    String text = primitive.getValueAsString();
    if (text == null) {
      return true; // no value (an element carrying only extensions): nothing to check
    }
    Object value = primitive.getValue();
    if (value == null) {
      return false; // HAPI kept the text but could not read it as this type
    }
    if (primitive instanceof BaseDateTimeType dateTime) {
      return usableDate(dateTime, text);
    }
    if (primitive instanceof TimeType) {
      return TIME.matcher(text).matches();
    }
    if (primitive instanceof DecimalType decimal) {
      BigDecimal number = decimal.getValue();
      return number.abs().compareTo(DECIMAL_LIMIT) < 0 && number.scale() <= MAX_DECIMAL_SCALE;
    }
    if (primitive instanceof PositiveIntType positive) {
      return positive.getValue() >= 1;
    }
    if (primitive instanceof UnsignedIntType unsigned) {
      return unsigned.getValue() >= 0;
    }
    return true;
  }

  private static boolean usableDate(BaseDateTimeType value, String text) {
    if (text.length() < 4 || !text.substring(0, 4).chars().allMatch(Character::isDigit)) {
      return false;
    }
    int year = Integer.parseInt(text.substring(0, 4));
    if (year < 1 || (text.length() > 4 && Character.isDigit(text.charAt(4)))) {
      return false;
    }
    TemporalPrecisionEnum precision = value.getPrecision();
    if (value instanceof DateType) {
      return precision.ordinal() <= TemporalPrecisionEnum.DAY.ordinal();
    }
    if (value instanceof InstantType) {
      return precision.ordinal() >= TemporalPrecisionEnum.SECOND.ordinal()
          && (value.getTimeZone() != null || value.isTimeZoneZulu());
    }
    return true;
  }

  /**
   * {@code Patient.birthDate}, {@code Condition.onsetDateTime}, {@code
   * Observation.code.coding.code}.
   */
  private static String path(
      Resource resource, List<IBase> containing, List<BaseRuntimeChildDefinition> children) {
    StringBuilder out = new StringBuilder(resource.fhirType());
    int offset = containing.size() - children.size();
    for (int i = 0; i < children.size(); i++) {
      BaseRuntimeChildDefinition child = children.get(i);
      String name = child.getChildNameByDatatype(containing.get(i + offset).getClass());
      out.append('.').append(name == null ? child.getElementName() : name);
    }
    return out.toString();
  }

  /** One unusable element and where it hangs. */
  private record Removal(IBase parent, BaseRuntimeChildDefinition child, IBase element) {
    void apply() {
      if (child.getMax() == 1) {
        child.getMutator().setValue(parent, null);
        return;
      }
      List<IBase> values = child.getAccessor().getValues(parent);
      for (int i = 0; i < values.size(); i++) {
        if (values.get(i) == element) {
          child.getMutator().remove(parent, i);
          return;
        }
      }
    }
  }

  /** Lenient, and keeps the names of the elements HAPI drops for their JSON type. */
  private static final class Recording extends LenientErrorHandler {
    private final Collection<String> dropped;

    Recording(Collection<String> dropped) {
      super(false);
      setErrorOnInvalidValue(false);
      this.dropped = dropped;
    }

    @Override
    public void incorrectJsonType(
        IParseLocation location,
        String elementName,
        BaseJsonLikeValue.ValueType expected,
        BaseJsonLikeValue.ScalarType expectedScalar,
        BaseJsonLikeValue.ValueType found,
        BaseJsonLikeValue.ScalarType foundScalar) {
      if (elementName != null) {
        dropped.add(elementName);
      }
    }
  }
}
