# Usage: Rscript rref.R input.csv out.json  (columns: study, yi, vi, [group], [x], [ai,n1i,ci,n2i], [year])
suppressMessages({library(metafor); library(jsonlite)})
args <- commandArgs(TRUE)
d <- read.csv(args[1], stringsAsFactors=FALSE)
ctl <- list(threshold=1e-12, maxiter=100000, tol=1e-12, stepadj=0.5)
out <- list(metafor=as.character(packageVersion("metafor")))
mod <- function(r, pr, ci) list(estimate=c(r$b), se=r$se, ci_low=r$ci.lb, ci_high=r$ci.ub, stat=r$zval, p=r$pval,
  pi_low=if (is.null(pr$pi.lb)) NA else pr$pi.lb, pi_high=if (is.null(pr$pi.ub)) NA else pr$pi.ub,
  tau2=r$tau2, i2=r$I2, h2=r$H2, q=r$QE, q_p=r$QEp,
  tau2_ci_low=ci[1], tau2_ci_high=ci[2], i2_ci_low=ci[3], i2_ci_high=ci[4])
pools <- list()
for (m in c("FE","DL","HE","HS","SJ","ML","REML","PM","EB")) for (t in c("z","knha")) {
  r <- tryCatch(suppressWarnings(rma(yi, vi, data=d, method=m, test=t, control=ctl)),
                error=function(e) suppressWarnings(rma(yi, vi, data=d, method=m, test=t, control=list(threshold=1e-10, maxiter=10000, stepadj=0.5, tol=1e-12))))
  ci <- c(NA,NA,NA,NA)
  if (m != "FE" && r$k > 1) { cc <- confint(r, control=list(tol=1e-12, tau2.max=1e6)); ci <- c(cc$random[1,2:3], cc$random[3,2:3]) }
  pools[[paste(m, if (t=="knha") "hksj" else "z")]] <- mod(r, predict(r), ci)
}
out$pool <- pools
if ("x" %in% names(d)) {
  regs <- list()
  for (m in c("REML","ML","DL")) for (t in c("z","knha")) {
    r <- rma(yi, vi, mods=~x, data=d, method=m, test=t, control=ctl)
    cc <- confint(r, control=list(tol=1e-12, tau2.max=1e6))
    regs[[paste(m, if (t=="knha") "hksj" else "z")]] <- list(coef=c(r$b), se=r$se, ci_low=r$ci.lb, ci_high=r$ci.ub,
      stat=r$zval, p=r$pval, tau2=r$tau2, tau2_ci_low=cc$random[1,2], tau2_ci_high=cc$random[1,3], i2=r$I2, h2=r$H2, r2=if (is.null(r$R2)) NA else r$R2,
      qe=r$QE, qe_p=r$QEp, qm=r$QM, qm_p=r$QMp)
  }
  out$regression <- regs
}
if ("group" %in% names(d)) {
  d$group <- factor(d$group, levels=unique(d$group))
  sub <- list()
  for (m in c("REML","DL")) {
    r <- rma(yi, vi, mods=~group, data=d, method=m, control=ctl)
    sep <- lapply(levels(d$group), function(g) { s <- d[d$group==g,]; if (nrow(s)==1) return(list(estimate=s$yi, se=sqrt(s$vi))); rr <- rma(yi, vi, data=s, method=m, control=ctl); list(estimate=c(rr$b), se=rr$se, tau2=rr$tau2, q=rr$QE, i2=rr$I2) })
    fe <- rma(sapply(sep, `[[`, "estimate"), sapply(sep, `[[`, "se")^2, method="FE")
    sub[[m]] <- list(common_qm=r$QM, common_qm_p=r$QMp, common_tau2=r$tau2, separate=sep, q_between=fe$QE, q_between_p=fe$QEp)
  }
  out$subgroup <- sub
}
r <- rma(yi, vi, data=d, method="REML", control=ctl)
l <- leave1out(r)
out$leave1out <- list(estimate=l$estimate, se=l$se, ci_low=l$ci.lb, ci_high=l$ci.ub, q=l$Q, tau2=l$tau2, i2=l$I2)
if ("year" %in% names(d)) { cu <- cumul(r, order=d$year); out$cumulative <- list(estimate=cu$estimate, se=cu$se, tau2=cu$tau2) }
if (nrow(d) >= 3) {
  e <- regtest(r, model="lm"); out$egger_lm <- list(stat=e$zval, p=e$pval, limit=e$est, limit_ci_low=e$ci.lb, limit_ci_high=e$ci.ub)
  e <- regtest(r); out$egger_rma <- list(stat=e$zval, p=e$pval, limit=e$est, limit_ci_low=e$ci.lb, limit_ci_high=e$ci.ub)
  rk <- ranktest(r); out$begg <- list(tau=rk$tau, p=rk$pval)
  tf <- list()
  for (m in c("FE","REML")) for (est in c("L0","R0")) {
    rr <- rma(yi, vi, data=d, method=m, control=ctl); t <- trimfill(rr, estimator=est, control=ctl)
    k0 <- t$k0; se.k0 <- t$se.k0; side <- t$side; p.k0 <- t$p.k0
    t <- rma(t$yi, t$vi, method=m, control=ctl)  # refit the filled data to full precision
    tf[[paste(m, est)]] <- list(k0=k0, se_k0=se.k0, side=side, p_k0=if (is.null(p.k0)) NA else p.k0, estimate=c(t$b), se=t$se, ci_low=t$ci.lb, ci_high=t$ci.ub, tau2=t$tau2, q=t$QE)
  }
  out$trimfill <- tf
}
if ("ai" %in% names(d)) {
  mh <- list()
  for (m in c("OR","RR","RD")) { r <- rma.mh(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=d, measure=m); mh[[m]] <- list(estimate=c(r$b), se=r$se, ci_low=r$ci.lb, ci_high=r$ci.ub, q=r$QE, i2=r$I2) }
  r <- rma.peto(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=d); mh$PETO <- list(estimate=c(r$b), se=r$se, ci_low=r$ci.lb, ci_high=r$ci.ub, q=r$QE, i2=r$I2)
  out$mh <- mh
}
writeLines(toJSON(out, digits=I(15), auto_unbox=TRUE, na="null", pretty=TRUE), args[2])
