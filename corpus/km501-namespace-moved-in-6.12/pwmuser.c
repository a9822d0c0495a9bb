// SPDX-License-Identifier: GPL-2.0
/* The PWM core's exports moved into the PWM namespace in 6.7 (EXPORT_SYMBOL_NS_GPL(..., PWM)
 * in drivers/pwm/core.c); a driver written for 6.1 imports no namespace. */
#include <linux/module.h>
#include <linux/pwm.h>

static struct pwm_device *pwm;

static int __init pwmuser_init(void)
{
	pwm = pwm_get(NULL, "pwmuser"); /* expect: missing-namespace-import */
	return IS_ERR(pwm) ? PTR_ERR(pwm) : 0;
}

static void __exit pwmuser_exit(void)
{
	pwm_put(pwm);
}

module_init(pwmuser_init);
module_exit(pwmuser_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("a PWM consumer written for 6.1");
