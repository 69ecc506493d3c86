package org.backhippain.cds.service.review;

import java.util.stream.Collectors;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.RuleDefinition;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.service.system.CdsException;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;
import org.hl7.fhir.r4.model.RelatedArtifact;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.HtmlUtils;

/**
 * A plain page per rule at {@code /review/{ruleId}}, where every card's {@code source.url} lands:
 * the rule in plain words, its card text, its sources and its CQL, all read from content.
 */
@RestController
class ReviewController {
  private final RuleEngine engine;
  private final ContentPackage content;
  private final Parser markdown = Parser.builder().build();
  private final HtmlRenderer html = HtmlRenderer.builder().escapeHtml(true).build();

  ReviewController(RuleEngine engine) {
    this.engine = engine;
    this.content = engine.content();
  }

  @GetMapping(path = "/review", produces = MediaType.TEXT_HTML_VALUE)
  String index() {
    String rows =
        engine.catalog().rules().stream()
            .map(
                r ->
                    "<li><a href=\"review/%s\">%s</a>: %s (%s)</li>"
                        .formatted(
                            esc(r.ruleId()),
                            esc(r.ruleId()),
                            esc(r.planDefinition().getTitle()),
                            esc(String.join(", ", r.hooks()))))
            .collect(Collectors.joining("\n"));
    return page("Rule book", "<h1>Rule book</h1>\n<ul>\n" + rows + "\n</ul>");
  }

  @GetMapping(path = "/review/{ruleId}", produces = MediaType.TEXT_HTML_VALUE)
  String rule(@PathVariable String ruleId) {
    RuleDefinition rule =
        engine
            .catalog()
            .rule(ruleId)
            .orElseThrow(() -> CdsException.notFound("no rule with id '" + ruleId + "'"));
    var plan = rule.planDefinition();
    var action = rule.action();
    String sources =
        plan.getRelatedArtifact().stream()
            .filter(a -> a.getType() == RelatedArtifact.RelatedArtifactType.CITATION)
            .map(a -> "<li>" + esc(a.getCitation()) + "</li>")
            .collect(Collectors.joining("\n"));
    String cql = content.cql().get(rule.libraryName()).text();
    String body =
        """
        <h1>%s <small>(%s)</small></h1>
        <p>%s</p>
        <p>Hooks: %s. Card priority: %s.</p>
        <h2>Card</h2>
        <p><strong>Summary:</strong> %s</p>
        <div class="detail">%s</div>
        <h2>Sources</h2>
        <ul>%s</ul>
        <h2>CQL (%s)</h2>
        <pre>%s</pre>
        """
            .formatted(
                esc(plan.getTitle()),
                esc(rule.ruleId()),
                esc(plan.getDescription()),
                esc(String.join(", ", rule.hooks())),
                esc(action.getPriority() == null ? "routine" : action.getPriority().toCode()),
                esc(action.getTitle()),
                html.render(markdown.parse(action.getDescription())),
                sources,
                esc(rule.libraryName()),
                esc(cql));
    return page(plan.getTitle(), body);
  }

  private static String page(String title, String body) {
    return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>%s</title>
        <style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.5}
        pre{background:#f5f5f5;padding:1rem;overflow:auto}</style></head>
        <body>
        %s
        </body></html>
        """
        .formatted(esc(title), body);
  }

  private static String esc(String text) {
    return text == null ? "" : HtmlUtils.htmlEscape(text);
  }
}
