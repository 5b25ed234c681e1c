# Reference values for ohevidence.meta.multilevel (three-level REML) from metafor 3.8-1 + clubSandwich.
# Usage: Rscript tests/data/meta/multilevel_oracle.R   (run from the repository root)
# Writes tests/data/meta/konstantopoulos2011.csv (metafor's dat.konstantopoulos2011: Konstantopoulos 2011,
# Res Synth Methods 2:61-76; metafor documentation ?dat.konstantopoulos2011), and for it and the invented
# synthetic_three_level.csv (4 clusters) the fits below as <name>.metafor.json.
suppressMessages({library(metafor); library(jsonlite)})
ctl <- list(rel.tol=1e-10, iter.max=10000, eval.max=10000)
coefs <- function(r) list(estimate=c(r$b), se=r$se, stat=r$zval, p=r$pval, ci_low=r$ci.lb, ci_high=r$ci.ub)
rob <- function(r) list(se=r$se, stat=r$zval, df=r$ddf, p=r$pval, ci_low=r$ci.lb, ci_high=r$ci.ub)
fit <- function(r) c(coefs(r), list(sigma2_between=r$sigma2[1], sigma2_within=r$sigma2[2],
  loglik_reml=c(logLik(r)), q=r$QE, q_df=r$k - r$p, q_p=r$QEp, df=if (is.null(r$ddf)) NA else r$ddf))
run <- function(d, code, mods=NULL) {
  out <- list(metafor=as.character(packageVersion("metafor")),
              clubSandwich=as.character(packageVersion("clubSandwich")), code=code)
  for (t in c("z", "t")) {
    r <- if (is.null(mods)) rma.mv(yi, vi, random = ~ 1 | cluster/effect, data=d, test=t, control=ctl)
         else rma.mv(yi, vi, mods=mods, random = ~ 1 | cluster/effect, data=d, test=t, control=ctl)
    out[[t]] <- fit(r)
    if (t == "z") {
      out$CR1 <- rob(robust(r, cluster=d$cluster))
      out$CR2 <- rob(robust(r, cluster=d$cluster, clubSandwich=TRUE))
    }
  }
  r <- if (is.null(mods)) rma(yi, vi, data=d, method="REML") else rma(yi, vi, mods=mods, data=d, method="REML")
  out$independent <- c(coefs(r), list(tau2=r$tau2))
  out
}
dat <- dat.konstantopoulos2011
write.csv(dat[, c("district", "school", "study", "year", "yi", "vi")], "tests/data/meta/konstantopoulos2011.csv",
          row.names=FALSE)
d <- data.frame(cluster=dat$district, effect=dat$school, yi=dat$yi, vi=dat$vi)
code <- "rma.mv(yi, vi, random = ~ 1 | district/school, data = dat.konstantopoulos2011, test = t, control = list(rel.tol=1e-10, iter.max=10000, eval.max=10000)); robust(r, cluster=district) [CR1]; robust(r, cluster=district, clubSandwich=TRUE) [CR2]; rma(yi, vi, method='REML') [independent]"
writeLines(toJSON(run(d, code), digits=I(15), auto_unbox=TRUE, na="null", pretty=TRUE),
           "tests/data/meta/konstantopoulos2011.metafor.json")
s <- read.csv("tests/data/meta/synthetic_three_level.csv", stringsAsFactors=FALSE)
d <- data.frame(cluster=s$study, effect=s$effect, yi=s$yi, vi=s$vi, x=s$x)
out <- run(d, "as above with random = ~ 1 | study/effect on synthetic_three_level.csv")
out$mods <- run(d, "as above with mods = ~ x", mods= ~ x)
writeLines(toJSON(out, digits=I(15), auto_unbox=TRUE, na="null", pretty=TRUE),
           "tests/data/meta/synthetic_three_level.metafor.json")
