package org.backhippain.cds.population;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * What one group of the export gave (a Java bean for Spark's encoder): for a patient, the
 * demographics the report breaks down by, whether they are in scope, the cards that would have
 * fired (patient-view as of the run's date; the imaging rule at each imaging order), each imaging
 * order's place in the measure, and the codes no value set matched; for an organisation, its name;
 * for a group without its Patient, the types of the resources skipped.
 */
public class PatientOutcome implements Serializable {
  static final String PATIENT = "patient";
  static final String ORGANIZATION = "organization";
  static final String UNKNOWN_PATIENT = "unknown-patient";
  static final String NOT_EVALUATED = "not-evaluated";

  private String kind;
  private String id;
  private String name;
  private List<String> aliases = new ArrayList<>();
  private String ageBand;
  private String sex;
  private String organization;
  private boolean inScope;
  private List<RuleHit> hits = new ArrayList<>();
  private List<OrderOutcome> orders = new ArrayList<>();
  private List<String> unmatchedCodes = new ArrayList<>();
  private List<String> skippedTypes = new ArrayList<>();
  private int ruleErrors;

  public PatientOutcome() {}

  static PatientOutcome of(String kind, String id) {
    PatientOutcome o = new PatientOutcome();
    o.kind = kind;
    o.id = id;
    return o;
  }

  public String getKind() {
    return kind;
  }

  public void setKind(String kind) {
    this.kind = kind;
  }

  /** The patient id (replicas: rewritten), or the organisation's key. */
  public String getId() {
    return id;
  }

  public void setId(String id) {
    this.id = id;
  }

  /** An organisation's name; for a patient not evaluated, why. */
  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  /** An organisation's identifier values (conditional references name it by them). */
  public List<String> getAliases() {
    return aliases;
  }

  public void setAliases(List<String> aliases) {
    this.aliases = aliases;
  }

  public String getAgeBand() {
    return ageBand;
  }

  public void setAgeBand(String ageBand) {
    this.ageBand = ageBand;
  }

  public String getSex() {
    return sex;
  }

  public void setSex(String sex) {
    this.sex = sex;
  }

  /** The organisation's key: managingOrganization, else the latest Encounter's serviceProvider. */
  public String getOrganization() {
    return organization;
  }

  public void setOrganization(String organization) {
    this.organization = organization;
  }

  public boolean isInScope() {
    return inScope;
  }

  public void setInScope(boolean inScope) {
    this.inScope = inScope;
  }

  public List<RuleHit> getHits() {
    return hits;
  }

  public void setHits(List<RuleHit> hits) {
    this.hits = hits;
  }

  public List<OrderOutcome> getOrders() {
    return orders;
  }

  public void setOrders(List<OrderOutcome> orders) {
    this.orders = orders;
  }

  /** {@code system|code|display} of each resource whose code no value set matched. */
  public List<String> getUnmatchedCodes() {
    return unmatchedCodes;
  }

  public void setUnmatchedCodes(List<String> unmatchedCodes) {
    this.unmatchedCodes = unmatchedCodes;
  }

  /** A group without its Patient: the type of each resource skipped. */
  public List<String> getSkippedTypes() {
    return skippedTypes;
  }

  public void setSkippedTypes(List<String> skippedTypes) {
    this.skippedTypes = skippedTypes;
  }

  /** Rules that could not be evaluated for this patient. */
  public int getRuleErrors() {
    return ruleErrors;
  }

  public void setRuleErrors(int ruleErrors) {
    this.ruleErrors = ruleErrors;
  }

  /** One card that would have fired, with the facts that made it fire. */
  public static class RuleHit implements Serializable {
    private String ruleId;
    private String hook;
    private String date;
    private String facts;

    public RuleHit() {}

    RuleHit(String ruleId, String hook, String date, String facts) {
      this.ruleId = ruleId;
      this.hook = hook;
      this.date = date;
      this.facts = facts;
    }

    public String getRuleId() {
      return ruleId;
    }

    public void setRuleId(String ruleId) {
      this.ruleId = ruleId;
    }

    /** {@code patient-view}, or {@code order-select} for an imaging order evaluated at its date. */
    public String getHook() {
      return hook;
    }

    public void setHook(String hook) {
      this.hook = hook;
    }

    /** The date evaluated as of (ISO). */
    public String getDate() {
      return date;
    }

    public void setDate(String date) {
      this.date = date;
    }

    public String getFacts() {
      return facts;
    }

    public void setFacts(String facts) {
      this.facts = facts;
    }
  }

  /** One imaging order evaluated as of its own date, the order itself the draft. */
  public static class OrderOutcome implements Serializable {
    private String order;
    private String date;
    private String outcome;
    private List<String> redFlags = new ArrayList<>();

    public OrderOutcome() {}

    OrderOutcome(String order, String date, String outcome, List<String> redFlags) {
      this.order = order;
      this.date = date;
      this.outcome = outcome;
      this.redFlags = new ArrayList<>(redFlags);
    }

    public String getOrder() {
      return order;
    }

    public void setOrder(String order) {
      this.order = order;
    }

    public String getDate() {
      return date;
    }

    public void setDate(String date) {
      this.date = date;
    }

    /** The order's place in the measure ({@link ImagingMeasure}). */
    public String getOutcome() {
      return outcome;
    }

    public void setOutcome(String outcome) {
      this.outcome = outcome;
    }

    /** The red-flag rules whose cards the order would have shown (its exclusions). */
    public List<String> getRedFlags() {
      return redFlags;
    }

    public void setRedFlags(List<String> redFlags) {
      this.redFlags = redFlags;
    }
  }
}
